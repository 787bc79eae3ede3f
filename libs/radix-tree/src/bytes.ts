/** Varint byte writer/reader for the tree codecs. Readers never throw past their checks: they return undefined. */
export class Writer {
  private buf = new Uint8Array(256);
  private at = 0;

  private ensure(n: number): void {
    if (this.at + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.at + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.at));
    this.buf = next;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.at++] = v;
  }

  varint(v: number): void {
    this.ensure(10);
    while (v >= 0x80) {
      this.buf[this.at++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.at++] = v;
  }

  bytes(b: Uint8Array): void {
    this.varint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.at);
    this.at += b.length;
  }

  string(s: string): void {
    this.bytes(new TextEncoder().encode(s));
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.at);
  }
}

export class Reader {
  at = 0;
  constructor(private readonly buf: Uint8Array) {}

  get remaining(): number {
    return this.buf.length - this.at;
  }

  u8(): number | undefined {
    return this.at < this.buf.length ? this.buf[this.at++] : undefined;
  }

  /** Up to 2^53; undefined on truncation or overlong encodings. */
  varint(): number | undefined {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.u8();
      if (b === undefined) return undefined;
      v += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) return v;
      mul *= 0x80;
    }
    return undefined;
  }

  string(maxBytes: number): string | undefined {
    const n = this.varint();
    if (n === undefined || n > maxBytes || n > this.remaining) return undefined;
    const s = new TextDecoder('utf-8', { fatal: false }).decode(this.buf.subarray(this.at, this.at + n));
    this.at += n;
    return s;
  }
}
