/**
 * A minimal binary writer/reader: unsigned LEB128 varints, length-prefixed bytes and UTF-8
 * strings. The reader checks every length against what remains and against a caller's cap
 * *before* touching the bytes, and signals malformed input with a private error that
 * `tryDecode` turns into `undefined`, so decoders read as straight-line code.
 */
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });

class MalformedInput extends Error {}

export class ByteWriter {
  private buf: Uint8Array;
  private len = 0;

  constructor(initialCapacity = 64) {
    this.buf = new Uint8Array(initialCapacity);
  }

  private ensure(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + extra) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  u8(value: number): this {
    this.ensure(1);
    this.buf[this.len++] = value & 0xff;
    return this;
  }

  /** Unsigned integer up to 2^53 - 1. */
  varUint(value: number): this {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`varUint out of range: ${value}`);
    this.ensure(8);
    while (value >= 0x80) {
      this.buf[this.len++] = (value % 0x80) | 0x80;
      value = Math.floor(value / 0x80);
    }
    this.buf[this.len++] = value;
    return this;
  }

  raw(bytes: Uint8Array): this {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
    return this;
  }

  bytes(bytes: Uint8Array): this {
    return this.varUint(bytes.length).raw(bytes);
  }

  string(text: string): this {
    return this.bytes(textEncoder.encode(text));
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

export class ByteReader {
  private pos = 0;

  constructor(private readonly buf: Uint8Array) {}

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  u8(): number {
    if (this.pos >= this.buf.length) throw new MalformedInput('truncated');
    return this.buf[this.pos++];
  }

  varUint(max = Number.MAX_SAFE_INTEGER): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.u8();
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) {
        if (result > max) throw new MalformedInput('varUint above cap');
        return result;
      }
      scale *= 0x80;
    }
    throw new MalformedInput('varUint too long');
  }

  /** A length-prefixed byte string of at most `maxLen` bytes (a view, not a copy). */
  bytes(maxLen: number): Uint8Array {
    const n = this.varUint(maxLen);
    if (n > this.remaining) throw new MalformedInput('length beyond input');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  string(maxBytes: number): string {
    try {
      return textDecoder.decode(this.bytes(maxBytes));
    } catch (err) {
      if (err instanceof MalformedInput) throw err;
      throw new MalformedInput('invalid utf-8');
    }
  }

  /** Everything not read yet. */
  rest(): Uint8Array {
    const out = this.buf.subarray(this.pos);
    this.pos = this.buf.length;
    return out;
  }

  /** Decoders call this last: trailing garbage is malformed too. */
  end(): void {
    if (this.pos !== this.buf.length) throw new MalformedInput('trailing bytes');
  }
}

/** Runs a decoder; any malformed-input signal (or a codec's own throw) becomes `undefined`. */
export function tryDecode<T>(bytes: Uint8Array, decode: (reader: ByteReader) => T): T | undefined {
  try {
    return decode(new ByteReader(bytes));
  } catch {
    return undefined;
  }
}

/** Lets codecs outside this file reject input with the same signal. */
export function malformed(reason: string): never {
  throw new MalformedInput(reason);
}
