/**
 * Streams one call object `{"name": "f", "arguments": {...}}` (Hermes, Mistral's list, the
 * constrained json_array) or `{"name": "f", "parameters": {...}}` (Llama 3): the name becomes
 * known as soon as its string closes, the arguments value is released piece by piece through a
 * JsonStreamer. Arguments sent as a JSON string holding JSON (some fine-tunes do that) are
 * unwrapped once complete.
 */
import { isWs } from '../markers';
import { JsonStreamer } from './json-streamer';

export interface CallObjectOptions {
  /** Keys whose value is the arguments object, e.g. ['arguments', 'parameters']. */
  argKeys: readonly string[];
  /**
   * When set, the object must start with "name" (or one of these keys, e.g. "type"): anything else
   * is not a call and fails at once, so ordinary JSON answers are released as text early.
   */
  keysBeforeName?: readonly string[];
}

/** Longest tool name accepted (OpenAI allows 64 characters). */
const MAX_NAME = 256;

const enum S {
  Start,
  KeyOrEnd,
  Key,
  InKey,
  Colon,
  Value,
  InName,
  InArgs,
  InOther,
  Next,
  Done,
  Error,
}

export class CallObjectScanner {
  private state = S.Start;
  private raw = '';
  private key = '';
  private keyEsc = false;
  private nameRaw = '';
  private nameEsc = false;
  private sawArgs = false;
  private sawKey = false;
  private args: JsonStreamer | null = null;
  private other: JsonStreamer | null = null;
  private argsOut = '';
  private stringArgs = false;
  private releasedAny = false;
  name: string | undefined;

  constructor(private readonly opts: CallObjectOptions) {}

  get done(): boolean {
    return this.state === S.Done;
  }

  get failed(): boolean {
    return this.state === S.Error;
  }

  /** Argument text released since the last call. */
  drainArgs(): string {
    const o = this.argsOut;
    this.argsOut = '';
    return o;
  }

  /** Closes released arguments after a failure or an early end of input. */
  repair(): string {
    if (this.state === S.Done) return '';
    if (!this.releasedAny || this.args === null) return '{}';
    return this.args.repair();
  }

  feed(s: string, i: number): number {
    const n = s.length;
    while (i < n) {
      const st = this.state;
      if (st === S.Done || st === S.Error) return i;
      if (st === S.InArgs) {
        const a = this.args as JsonStreamer;
        i = a.feed(s, i);
        if (a.firstChar !== '' && a.firstChar !== '{' && a.firstChar !== '"') {
          this.state = S.Error; // arguments must be an object (or a string holding one)
          continue;
        }
        this.collectArgs(a);
        if (a.failed) this.state = S.Error;
        else if (a.done) this.state = S.Next;
        continue;
      }
      if (st === S.InOther) {
        const o = this.other as JsonStreamer;
        i = o.feed(s, i);
        o.drain();
        if (o.failed) this.state = S.Error;
        else if (o.done) this.state = S.Next;
        continue;
      }
      const c = s.charCodeAt(i);
      if (st === S.InKey) {
        this.raw += s[i];
        i++;
        if (this.keyEsc) this.keyEsc = false;
        else if (c === 92) this.keyEsc = true;
        else if (c === 34) this.endKey();
        continue;
      }
      if (st === S.InName) {
        i++;
        if (this.nameEsc) this.nameEsc = false;
        else if (c === 92) this.nameEsc = true;
        else if (c === 34) {
          this.endName();
          continue;
        }
        this.nameRaw += s[i - 1];
        if (this.nameRaw.length > MAX_NAME) this.state = S.Error; // not a tool name: decide now
        continue;
      }
      if (isWs(c)) {
        i++;
        continue;
      }
      i++;
      switch (st) {
        case S.Start:
          this.state = c === 123 ? S.KeyOrEnd : S.Error;
          break;
        case S.KeyOrEnd:
        case S.Key:
          if (c === 34) {
            this.raw = '"';
            this.state = S.InKey;
          } else if (c === 125 && st === S.KeyOrEnd) this.state = S.Error; // {} is not a call
          else this.state = S.Error;
          break;
        case S.Colon:
          this.state = c === 58 ? S.Value : S.Error;
          break;
        case S.Value:
          if (!this.startValue(c)) i--; // the value's scanner reads its first character itself
          break;
        case S.Next:
          if (c === 44) this.state = S.Key;
          else if (c === 125) this.finish();
          else this.state = S.Error;
          break;
      }
    }
    return i;
  }

  private endKey(): void {
    try {
      this.key = JSON.parse(this.raw) as string;
    } catch {
      this.state = S.Error;
      return;
    }
    const before = this.opts.keysBeforeName;
    if (before && this.name === undefined && this.key !== 'name' && !before.includes(this.key)) {
      this.state = S.Error;
      return;
    }
    this.sawKey = true;
    this.state = S.Colon;
  }

  /** Returns whether `c` (the value's first character) was consumed. */
  private startValue(c: number): boolean {
    if (this.key === 'name' && this.name === undefined) {
      this.nameRaw = '';
      this.state = c === 34 ? S.InName : S.Error;
      return true;
    }
    if (this.opts.argKeys.includes(this.key) && !this.sawArgs) {
      this.sawArgs = true;
      this.args = new JsonStreamer('{"');
      this.stringArgs = c === 34;
      this.raw = '';
      this.state = S.InArgs;
      return false;
    }
    this.other = new JsonStreamer();
    this.state = S.InOther;
    return false;
  }

  private endName(): void {
    try {
      this.name = JSON.parse(`"${this.nameRaw}"`) as string;
    } catch {
      this.state = S.Error;
      return;
    }
    this.state = this.name === '' ? S.Error : S.Next;
  }

  private collectArgs(a: JsonStreamer): void {
    const piece = a.drain();
    if (!this.stringArgs) {
      this.argsOut += piece;
      if (piece !== '') this.releasedAny = true;
      return;
    }
    this.raw += piece;
    if (!a.done) return;
    // "arguments": "{\"city\": \"Paris\"}": unwrap when the string holds a JSON object.
    const inner = JSON.parse(this.raw) as string;
    let value: unknown;
    try {
      value = JSON.parse(inner);
    } catch {
      value = undefined;
    }
    this.argsOut += value !== null && typeof value === 'object' && !Array.isArray(value) ? JSON.stringify(value) : JSON.stringify({ value: inner });
    this.releasedAny = true;
  }

  private finish(): void {
    if (this.name === undefined || !this.sawKey) {
      this.state = S.Error;
      return;
    }
    if (!this.sawArgs) this.argsOut += '{}';
    this.state = S.Done;
  }
}
