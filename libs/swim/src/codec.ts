/** Bounded binary writer/reader shared by the wire codecs. Readers never read past the end. */
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Names and addresses repeat in every packet: their UTF-8 bytes are cached (bounded, cleared when
 * full) so the hot path does not re-encode them.
 */
const utf8Cache = new Map<string, Uint8Array>();
const UTF8_CACHE_LIMIT = 20_000;

function utf8(text: string): Uint8Array {
  let bytes = utf8Cache.get(text);
  if (!bytes) {
    bytes = encoder.encode(text);
    if (utf8Cache.size >= UTF8_CACHE_LIMIT) utf8Cache.clear();
    utf8Cache.set(text, bytes);
  }
  return bytes;
}

/** Short ASCII strings decode faster by hand than through TextDecoder. */
function decodeUtf8(bytes: Uint8Array): string {
  if (bytes.length <= 64) {
    let ascii = true;
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i] >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) return String.fromCharCode.apply(null, bytes as unknown as number[]);
  }
  return decoder.decode(bytes);
}

export class Writer {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;

  constructor(initialBytes = 128) {
    this.buf = new Uint8Array(initialBytes);
    this.view = new DataView(this.buf.buffer);
  }

  get length(): number {
    return this.pos;
  }

  /** Rewinds for reuse (a scratch writer avoids an allocation per message). */
  reset(): this {
    this.pos = 0;
    return this;
  }

  u8(value: number): this {
    this.ensure(1);
    this.buf[this.pos++] = value;
    return this;
  }

  u16(value: number): this {
    this.ensure(2);
    this.view.setUint16(this.pos, value);
    this.pos += 2;
    return this;
  }

  u32(value: number): this {
    this.ensure(4);
    this.view.setUint32(this.pos, value >>> 0);
    this.pos += 4;
    return this;
  }

  raw(bytes: Uint8Array): this {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
    return this;
  }

  /** u8 length + UTF-8 (names, addresses). */
  str8(text: string): this {
    const bytes = utf8(text);
    if (bytes.length > 255) throw new RangeError(`string longer than 255 bytes: ${text.slice(0, 40)}…`);
    return this.u8(bytes.length).raw(bytes);
  }

  /** u16 length + bytes. */
  bytes16(bytes: Uint8Array): this {
    if (bytes.length > 0xffff) throw new RangeError('byte field longer than 65535');
    return this.u16(bytes.length).raw(bytes);
  }

  /** u32 length + bytes. */
  bytes32(bytes: Uint8Array): this {
    return this.u32(bytes.length).raw(bytes);
  }

  /** Overwrites a u16 written earlier (length prefixes). */
  patchU16(at: number, value: number): void {
    this.view.setUint16(at, value);
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }

  private ensure(extra: number): void {
    if (this.pos + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
}

/** Thrown by Reader on truncated or invalid input; decoders catch it and return undefined. */
export class MalformedInput extends Error {}

export class Reader {
  private pos = 0;

  constructor(private readonly buf: Uint8Array) {}

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++];
  }

  u16(): number {
    this.need(2);
    const b = this.buf;
    const v = (b[this.pos] << 8) | b[this.pos + 1];
    this.pos += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const b = this.buf;
    const p = this.pos;
    const v = (b[p] * 0x1000000 + ((b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3])) >>> 0;
    this.pos += 4;
    return v;
  }

  /** A view (no copy) of the next n bytes. */
  raw(n: number): Uint8Array {
    this.need(n);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  str8(): string {
    const bytes = this.raw(this.u8());
    try {
      return decodeUtf8(bytes);
    } catch {
      throw new MalformedInput('invalid utf-8');
    }
  }

  bytes16(maxBytes = 0xffff): Uint8Array {
    const n = this.u16();
    if (n > maxBytes) throw new MalformedInput('field too large');
    return this.raw(n).slice();
  }

  bytes32(maxBytes: number): Uint8Array {
    const n = this.u32();
    if (n > maxBytes) throw new MalformedInput('field too large');
    return this.raw(n).slice();
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new MalformedInput('truncated');
  }
}
