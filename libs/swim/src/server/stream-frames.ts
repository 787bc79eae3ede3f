import { openPacket, sealPacket, type Keyring } from '../keyring';

/**
 * The stream path's framing. A request opens with a small header that is authenticated on its own
 * (`[u16 len][sealed: u8 n, sender address, u32 payload length]`), so a server reads at most
 * MAX_HEADER_BYTES from a stranger before it knows the connection comes from a key holder, and
 * only then accepts the payload (up to its own cap). Replies are `[u32 len][payload]`.
 */
export const MAX_HEADER_BYTES = 512;

export interface StreamHeader {
  from: string;
  payloadBytes: number;
}

/** The header with its length prefix, sealed with the stream-header subkey when keyed (whatever view of the ring is passed). */
export function encodeStreamHeader(keyring: Keyring | undefined, header: StreamHeader): Buffer {
  const from = Buffer.from(header.from);
  if (from.length > 255) throw new RangeError('sender address too long');
  const plain = Buffer.alloc(1 + from.length + 4);
  plain[0] = from.length;
  from.copy(plain, 1);
  plain.writeUInt32BE(header.payloadBytes, 1 + from.length);
  const sealed = sealPacket(keyring?.withPurpose('stream-header'), plain);
  const out = Buffer.alloc(2 + sealed.length);
  out.writeUInt16BE(sealed.length, 0);
  out.set(sealed, 2);
  return out;
}

export type HeaderResult = { ok: true; header: StreamHeader } | { ok: false; reason: 'unauthenticated' | 'malformed' | 'replayed' };

/** Opens a header (without its length prefix). */
export function decodeStreamHeader(keyring: Keyring | undefined, bytes: Uint8Array): HeaderResult {
  const opened = openPacket(keyring?.withPurpose('stream-header'), bytes);
  if (!opened.ok) return { ok: false, reason: opened.reason === 'bad_envelope' ? 'malformed' : opened.reason === 'replayed' ? 'replayed' : 'unauthenticated' };
  const plain = opened.plaintext;
  if (plain.length < 1 || plain.length !== 1 + plain[0] + 4) return { ok: false, reason: 'malformed' };
  const view = Buffer.from(plain.buffer, plain.byteOffset, plain.byteLength);
  return { ok: true, header: { from: view.subarray(1, 1 + plain[0]).toString(), payloadBytes: view.readUInt32BE(1 + plain[0]) } };
}

/**
 * Collects a byte stream into exactly `expected` bytes without re-copying what it already has
 * (chunks are kept and joined once), so a sender dribbling bytes costs linear, not quadratic, work.
 */
export class ChunkCollector {
  private readonly chunks: Buffer[] = [];
  private size = 0;

  get length(): number {
    return this.size;
  }

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  /** The first `n` bytes as one buffer and whatever came after them (n ≤ length). */
  take(n: number): { head: Buffer; rest: Buffer } {
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.size);
    this.chunks.length = 0;
    this.size = 0;
    const rest = all.subarray(n);
    if (rest.length > 0) this.push(rest);
    return { head: all.subarray(0, n), rest };
  }

  /** Peeks at a big-endian integer at the front without joining everything (needs `bytes` ≤ length). */
  peekUInt(bytes: 2 | 4): number {
    const first = this.chunks[0];
    if (first.length >= bytes) return bytes === 2 ? first.readUInt16BE(0) : first.readUInt32BE(0);
    const joined = Buffer.concat(this.chunks, this.size);
    this.chunks.length = 0;
    this.chunks.push(joined);
    return bytes === 2 ? joined.readUInt16BE(0) : joined.readUInt32BE(0);
  }
}

/** Reads one `[u32 len][payload]` reply, refusing lengths above the cap before buffering them. */
export class ReplyReader {
  private readonly collector = new ChunkCollector();
  private expected: number | undefined;

  constructor(private readonly maxBytes: number) {}

  push(chunk: Buffer): Uint8Array | 'too_large' | undefined {
    this.collector.push(chunk);
    if (this.expected === undefined) {
      if (this.collector.length < 4) return undefined;
      const length = this.collector.peekUInt(4);
      if (length > this.maxBytes) return 'too_large';
      this.expected = 4 + length;
    }
    if (this.collector.length < this.expected) return undefined;
    return new Uint8Array(this.collector.take(this.expected).head.subarray(4));
  }
}
