import type { SyncLimits } from '../limits';
import { ByteReader, ByteWriter, malformed, tryDecode } from './bytes';
import { compress, COMPRESS_ABOVE_BYTES, decompressCapped } from './compression';
import { type DocEpoch, type LoadEntry, MESSAGE_TAGS, type SyncMessage, TAG_TO_TYPE } from './messages';

/**
 * Envelope: [wire version][type tag][flags][payload]. Flag bit 0 marks a deflated payload. A
 * receiver drops other versions (counted), so a rolling upgrade never misparses a message.
 */
export const WIRE_VERSION = 1;
const FLAG_DEFLATED = 1;
const HEADER_BYTES = 3;

/** Messages whose payload is worth deflating when large (chunks carry already-built envelopes). */
const COMPRESSIBLE = new Set(['doc-step2', 'doc-update', 'shard-ops', 'shard-snapshot', 'load']);

export type DropReason =
  | 'malformed'
  | 'version'
  | 'unknown_type'
  | 'too_large'
  | 'bad_compression'
  | 'unknown_peer'
  | 'chunk_malformed'
  | 'chunk_overflow'
  | 'chunk_timeout'
  | 'codec_rejected'
  | 'stale'
  | 'rate_limited';

/** A content digest on the wire: an opaque ASCII fingerprint of at most this many bytes. */
export const MAX_DIGEST_BYTES = 64;
const DIGEST_PATTERN = /^[\x21-\x7e]*$/;

function writeEpoch(w: ByteWriter, e: DocEpoch): void {
  w.varUint(e.n).varUint(e.id);
}

function readEpoch(r: ByteReader): DocEpoch {
  return { n: r.varUint(), id: r.varUint(0xffffffff) };
}

function encodePayload(msg: SyncMessage): Uint8Array {
  const w = new ByteWriter();
  switch (msg.type) {
    case 'hello':
      w.string(msg.nodeId).varUint(msg.maxFrameBytes);
      break;
    case 'doc-step1':
      writeEpoch(w, msg.epoch);
      w.bytes(msg.stateVector);
      break;
    case 'doc-step2':
      writeEpoch(w, msg.epoch);
      w.u8(msg.full ? 1 : 0).bytes(msg.update);
      break;
    case 'doc-update':
      writeEpoch(w, msg.epoch);
      w.bytes(msg.update);
      break;
    case 'shard-ops':
      w.varUint(msg.epoch).varUint(msg.fromSeq).varUint(msg.count).bytes(msg.ops);
      break;
    case 'shard-snapshot':
      w.varUint(msg.epoch).varUint(msg.seq).bytes(msg.snapshot);
      break;
    case 'shard-ack':
      w.varUint(msg.epoch).varUint(msg.seq).u8((msg.gap ? 1 : 0) | (msg.wantSnapshot ? 2 : 0));
      break;
    case 'load':
      w.varUint(msg.epoch).varUint(msg.version).varUint(msg.entries.length);
      for (const e of msg.entries) w.string(e.workerId).varUint(e.inFlight).varUint(e.queued);
      break;
    case 'chunk':
      w.varUint(msg.transferId).varUint(msg.index).varUint(msg.count).bytes(msg.data);
      break;
    case 'shard-digest':
      w.varUint(msg.epoch).varUint(msg.seq).string(msg.digest);
      break;
  }
  return w.finish();
}

function decodePayload(type: SyncMessage['type'], r: ByteReader, limits: SyncLimits): SyncMessage {
  const maxBytes = limits.maxMessageBytes;
  switch (type) {
    case 'hello':
      return { type, nodeId: r.string(limits.maxIdBytes), maxFrameBytes: r.varUint() };
    case 'doc-step1':
      return { type, epoch: readEpoch(r), stateVector: r.bytes(maxBytes) };
    case 'doc-step2': {
      const epoch = readEpoch(r);
      const full = r.u8();
      if (full > 1) malformed('flag');
      return { type, epoch, full: full === 1, update: r.bytes(maxBytes) };
    }
    case 'doc-update':
      return { type, epoch: readEpoch(r), update: r.bytes(maxBytes) };
    case 'shard-ops': {
      const epoch = r.varUint(0xffffffff);
      const fromSeq = r.varUint();
      const count = r.varUint(limits.maxOpsPerBatch);
      if (fromSeq < 1 || count < 1) malformed('empty batch');
      return { type, epoch, fromSeq, count, ops: r.bytes(maxBytes) };
    }
    case 'shard-snapshot':
      return { type, epoch: r.varUint(0xffffffff), seq: r.varUint(), snapshot: r.bytes(maxBytes) };
    case 'shard-ack': {
      const epoch = r.varUint(0xffffffff);
      const seq = r.varUint();
      const flags = r.u8();
      if (flags > 3) malformed('flags');
      return { type, epoch, seq, gap: (flags & 1) !== 0, wantSnapshot: (flags & 2) !== 0 };
    }
    case 'load': {
      const epoch = r.varUint(0xffffffff);
      const version = r.varUint();
      const n = r.varUint(limits.maxLoadEntries);
      // Each entry takes at least 3 bytes: reject a count the input cannot hold before allocating.
      if (n * 3 > r.remaining) malformed('load count beyond input');
      const entries: LoadEntry[] = [];
      for (let i = 0; i < n; i++) entries.push({ workerId: r.string(limits.maxIdBytes), inFlight: r.varUint(), queued: r.varUint() });
      return { type, epoch, version, entries };
    }
    case 'chunk': {
      const transferId = r.varUint(0xffffffff);
      const index = r.varUint();
      const count = r.varUint();
      if (count < 2 || index >= count) malformed('chunk index');
      return { type, transferId, index, count, data: r.bytes(limits.maxFrameBytes) };
    }
    case 'shard-digest': {
      const epoch = r.varUint(0xffffffff);
      const seq = r.varUint();
      const digest = r.string(MAX_DIGEST_BYTES);
      // Epoch 0 means "nothing" and is never a shard's; a digest is printable ASCII.
      if (epoch === 0 || !DIGEST_PATTERN.test(digest)) malformed('digest');
      return { type, epoch, seq, digest };
    }
  }
}

export function encodeMessage(msg: SyncMessage): Uint8Array {
  let payload = encodePayload(msg);
  let flags = 0;
  if (COMPRESSIBLE.has(msg.type) && payload.length > COMPRESS_ABOVE_BYTES) {
    const deflated = compress(payload);
    if (deflated.length < payload.length) {
      payload = deflated;
      flags |= FLAG_DEFLATED;
    }
  }
  const out = new Uint8Array(HEADER_BYTES + payload.length);
  out[0] = WIRE_VERSION;
  out[1] = MESSAGE_TAGS[msg.type];
  out[2] = flags;
  out.set(payload, HEADER_BYTES);
  return out;
}

export type DecodeResult = { ok: true; message: SyncMessage } | { ok: false; reason: DropReason };

/** Decodes one envelope, reporting why it was dropped. Never throws. */
export function decodeMessageOrReason(bytes: Uint8Array, limits: SyncLimits): DecodeResult {
  if (bytes.length < HEADER_BYTES) return { ok: false, reason: 'malformed' };
  if (bytes.length > Math.max(limits.maxFrameBytes, limits.maxMessageBytes)) return { ok: false, reason: 'too_large' };
  if (bytes[0] !== WIRE_VERSION) return { ok: false, reason: 'version' };
  const type = TAG_TO_TYPE.get(bytes[1]);
  if (!type) return { ok: false, reason: 'unknown_type' };
  const flags = bytes[2];
  if ((flags & ~FLAG_DEFLATED) !== 0) return { ok: false, reason: 'malformed' };
  let payload = bytes.subarray(HEADER_BYTES);
  if (flags & FLAG_DEFLATED) {
    if (!COMPRESSIBLE.has(type)) return { ok: false, reason: 'malformed' };
    const inflated = decompressCapped(payload, limits.maxMessageBytes);
    if (!inflated) return { ok: false, reason: 'bad_compression' };
    payload = inflated;
  }
  const message = tryDecode(payload, (r) => {
    const m = decodePayload(type, r, limits);
    r.end();
    return m;
  });
  return message ? { ok: true, message } : { ok: false, reason: 'malformed' };
}

/** Decodes one envelope; undefined on any malformed input. */
export function decodeMessage(bytes: Uint8Array, limits: SyncLimits): SyncMessage | undefined {
  const result = decodeMessageOrReason(bytes, limits);
  return result.ok ? result.message : undefined;
}
