import type { ByteDecoder } from './byte-decoder';

export interface DecoderOptions {
  skipSpecialTokens?: boolean;
  stop?: string[];
  stopTokenIds?: number[];
  eosTokenIds?: number[];
  ignoreEos?: boolean;
  /** Keep the matched stop string in the output (default false: hidden, as OpenAI does). */
  includeStopStrInOutput?: boolean;
}

export interface DecodeStep {
  text: string;
  finished: boolean;
  finishReason?: 'stop';
  matchedStop?: string | number;
}

/**
 * Turns a stream of token ids into text: only complete UTF-8 characters are emitted (a character
 * split across tokens waits for its last byte), and stop conditions apply: stop token ids and EOS
 * end the stream without their text; a stop string ends it at its start, and text that could
 * still become a stop string is held back, so no partial stop string ever reaches the client.
 */
/** Decodes byte runs that end on a character boundary (no state: shared by every decoder). */
const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Bytes at the end of `b` that start a character not yet complete (0 to 3). */
function incompleteTail(b: Uint8Array, len: number): number {
  for (let back = 1; back <= Math.min(3, len); back++) {
    const byte = b[len - back];
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const need = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return need > back ? back : 0;
  }
  return 0;
}

export class IncrementalDecoder {
  /** Bytes of a character split across tokens, waiting for the rest (usually empty). */
  private pending = new Uint8Array(0);
  private readonly stopIds: Set<number>;
  private readonly stops: string[];
  private readonly maxStopLen: number;
  private held = '';
  private done = false;

  constructor(private readonly bytes: ByteDecoder, private readonly opts: DecoderOptions = {}) {
    this.stopIds = new Set(opts.stopTokenIds ?? []);
    if (!opts.ignoreEos) for (const id of opts.eosTokenIds ?? []) this.stopIds.add(id);
    this.stops = (opts.stop ?? []).filter((s) => s.length > 0);
    this.maxStopLen = this.stops.reduce((m, s) => Math.max(m, s.length), 0);
  }

  get finished(): boolean {
    return this.done;
  }

  push(ids: readonly number[]): DecodeStep {
    if (this.done) return { text: '', finished: true };
    let text = '';
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (this.stopIds.has(id)) {
        const out = this.release(text + this.takePending());
        this.done = true;
        if (out.matched !== undefined) return { text: out.text, finished: true, finishReason: 'stop', matchedStop: out.matched };
        const rest = this.held;
        this.held = '';
        return { text: out.text + rest, finished: true, finishReason: 'stop', matchedStop: id };
      }
      if (this.opts.skipSpecialTokens !== false && this.bytes.special.has(id)) continue;
      // Most tokens are whole characters: their cached text, no decoding. A token that splits a
      // character joins the pending bytes, which are decoded up to the last complete character.
      const whole = this.pending.length === 0 ? this.bytes.textOf(id) : undefined;
      if (whole !== undefined) text += whole;
      else {
        const b = this.bytes.bytesOf(id);
        if (b) text += this.appendBytes(b);
      }
    }
    const out = this.release(text);
    if (out.matched !== undefined) {
      this.done = true;
      return { text: out.text, finished: true, finishReason: 'stop', matchedStop: out.matched };
    }
    return { text: out.text, finished: false };
  }

  /** End of stream: releases held-back text that never became a stop string. */
  flush(): string {
    if (this.done) return '';
    this.done = true;
    const rest = this.held + this.takePending();
    this.held = '';
    return rest;
  }

  /** Adds bytes after the pending ones; returns the text of every complete character among them. */
  private appendBytes(b: Uint8Array): string {
    const all = new Uint8Array(this.pending.length + b.length);
    all.set(this.pending);
    all.set(b, this.pending.length);
    const tail = incompleteTail(all, all.length);
    this.pending = all.subarray(all.length - tail);
    return tail === all.length ? '' : utf8.decode(all.subarray(0, all.length - tail));
  }

  /** End of stream (or a stop): whatever is pending, broken characters as U+FFFD. */
  private takePending(): string {
    if (this.pending.length === 0) return '';
    const text = utf8.decode(this.pending);
    this.pending = new Uint8Array(0);
    return text;
  }

  /** Appends new text to the held tail; returns what is safe to emit, or the text up to a stop. */
  private release(newText: string): { text: string; matched?: string } {
    const all = this.held + newText;
    this.held = '';
    if (this.stops.length === 0) return { text: all };
    let first = -1;
    let matched: string | undefined;
    for (const s of this.stops) {
      const at = all.indexOf(s);
      if (at >= 0 && (first < 0 || at < first)) {
        first = at;
        matched = s;
      }
    }
    if (matched !== undefined) {
      return { text: all.slice(0, first) + (this.opts.includeStopStrInOutput ? matched : ''), matched };
    }
    // Hold back the longest tail that is a prefix of some stop string.
    const from = Math.max(0, all.length - (this.maxStopLen - 1));
    for (let i = from; i < all.length; i++) {
      const tail = all.slice(i);
      if (this.stops.some((s) => s.startsWith(tail))) {
        this.held = tail;
        return { text: all.slice(0, i) };
      }
    }
    return { text: all };
  }
}
