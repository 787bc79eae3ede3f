/**
 * Token id → bytes for byte-level BPE vocabularies (GPT-2/Qwen style): each vocab string maps
 * its characters back through the bytes↔unicode table; added tokens are their UTF-8 content.
 * Decoding then is plain byte concatenation, synchronous and cheap.
 */
function bytesToUnicode(): Map<string, number> {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  const map = new Map<string, number>();
  bs.forEach((b, i) => map.set(String.fromCodePoint(cs[i]), b));
  return map;
}

export interface AddedToken {
  id: number;
  content: string;
  special: boolean;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

export class ByteDecoder {
  private readonly table: (Uint8Array | undefined)[];
  /** Per id: its text when its bytes are complete UTF-8 on their own, null when not; filled on first use. */
  private readonly texts: (string | null | undefined)[] = [];
  readonly special: ReadonlySet<number>;

  constructor(vocab: Record<string, number>, added: AddedToken[]) {
    const charToByte = bytesToUnicode();
    let max = 0;
    for (const id of Object.values(vocab)) max = Math.max(max, id);
    for (const t of added) max = Math.max(max, t.id);
    this.table = new Array(max + 1);
    const encoder = new TextEncoder();
    for (const [token, id] of Object.entries(vocab)) {
      const bytes: number[] = [];
      let ok = true;
      for (const ch of token) {
        const b = charToByte.get(ch);
        if (b === undefined) {
          ok = false;
          break;
        }
        bytes.push(b);
      }
      this.table[id] = ok ? Uint8Array.from(bytes) : encoder.encode(token);
    }
    const special = new Set<number>();
    for (const t of added) {
      this.table[t.id] = encoder.encode(t.content);
      if (t.special) special.add(t.id);
    }
    this.special = special;
  }

  get size(): number {
    return this.table.length;
  }

  bytesOf(id: number): Uint8Array | undefined {
    return this.table[id];
  }

  /**
   * The token's text when its bytes form complete characters by themselves (most tokens), else
   * undefined (a token holding part of a multi-byte character, or an unknown id). Cached, so
   * streaming such tokens decodes nothing and allocates nothing.
   */
  textOf(id: number): string | undefined {
    let t = this.texts[id];
    if (t === undefined) {
      const b = this.table[id];
      try {
        t = b ? strictUtf8.decode(b) : null;
      } catch {
        t = null;
      }
      this.texts[id] = t;
    }
    return t ?? undefined;
  }

  /** Concatenated bytes of `ids` (unknown ids are skipped; special ones too when asked). */
  bytes(ids: readonly number[], skipSpecial: boolean): Uint8Array {
    let total = 0;
    for (const id of ids) if (!(skipSpecial && this.special.has(id))) total += this.table[id]?.length ?? 0;
    const out = new Uint8Array(total);
    let at = 0;
    for (const id of ids) {
      if (skipSpecial && this.special.has(id)) continue;
      const b = this.table[id];
      if (b) {
        out.set(b, at);
        at += b.length;
      }
    }
    return out;
  }
}
