import { MalformedInput, Reader, Writer } from './codec';
import type { MemberState } from './member';

/**
 * The SWIM wire format. A datagram's plaintext is `[WIRE_VERSION][frame]*`, each frame
 * `[type u8][length u16][payload]`: the first frame is the primary message (ping, ack, …), the
 * rest is piggybacked gossip. Unknown frame types are skipped by length, so new types can be added
 * without breaking old nodes. Message type numbers are APPEND-ONLY: never renumber or reuse one.
 */
export const WIRE_VERSION = 1;

export const MessageType = {
  Ping: 1,
  IndirectPing: 2,
  Ack: 3,
  Nack: 4,
  Alive: 5,
  Suspect: 6,
  Dead: 7,
  User: 8,
  // Append new types here.
} as const;

/** Stream (push-pull) message types, also append-only. */
export const StreamType = {
  PushPull: 1,
  /** A datagram packet (ping, then ack) sent over the stream path: the fallback probe. */
  Packet: 2,
} as const;

/** The stream message type of a stream payload, or undefined if it is not one. */
export function streamTypeOf(bytes: Uint8Array): number | undefined {
  return bytes.length >= 2 && bytes[0] === WIRE_VERSION ? bytes[1] : undefined;
}

/** Wraps a packet plaintext (encodePacket) for the stream path. */
export function encodeStreamPacket(packet: Uint8Array): Uint8Array {
  const out = new Uint8Array(packet.length + 2);
  out[0] = WIRE_VERSION;
  out[1] = StreamType.Packet;
  out.set(packet, 2);
  return out;
}

/** Unwraps a stream packet back into a decoded packet. */
export function decodeStreamPacket(bytes: Uint8Array, maxMetadataBytes = 0xffff): DecodedPacket | undefined {
  if (streamTypeOf(bytes) !== StreamType.Packet) return undefined;
  return decodePacket(bytes.subarray(2), maxMetadataBytes);
}

/** A proof is a certificate (name, key, signature) and a signature: well under this. */
export const MAX_PROOF_BYTES = 1024;

/** Bytes each frame adds around its payload. */
export const FRAME_OVERHEAD = 3;

/**
 * `proof`: with node identities, the originator's certificate and signature over the frame
 * without the proof (identity.ts). Relayed gossip keeps its originator's proof; it travels as a
 * trailing field, which older decoders skip.
 */
export interface PingMsg { type: 'ping'; seq: number; target: string; source: string; sourceAddress: string; proof?: Uint8Array }
export interface IndirectPingMsg {
  type: 'indirect-ping';
  seq: number;
  target: string;
  targetAddress: string;
  wantNack: boolean;
  source: string;
  sourceAddress: string;
  proof?: Uint8Array;
}
export interface AckMsg { type: 'ack'; seq: number; proof?: Uint8Array }
export interface NackMsg { type: 'nack'; seq: number; proof?: Uint8Array }
export interface AliveMsg { type: 'alive'; incarnation: number; name: string; address: string; meta: Uint8Array; proof?: Uint8Array }
export interface SuspectMsg { type: 'suspect'; incarnation: number; name: string; from: string; proof?: Uint8Array }
/** `left` marks a graceful leave (the node announced its own departure). */
export interface DeadMsg { type: 'dead'; incarnation: number; name: string; from: string; left: boolean; proof?: Uint8Array }
export interface UserMsg { type: 'user'; payload: Uint8Array }

export type SwimMessage = PingMsg | IndirectPingMsg | AckMsg | NackMsg | AliveMsg | SuspectMsg | DeadMsg | UserMsg;
export type GossipMsg = AliveMsg | SuspectMsg | DeadMsg;

/** Encodes one message as a frame, ready to be concatenated into a packet. */
const scratch = new Writer(2048);

export function encodeFrame(msg: SwimMessage): Uint8Array {
  const w = scratch.reset();
  w.u8(typeCode(msg)).u16(0);
  switch (msg.type) {
    case 'ping':
      w.u32(msg.seq).str8(msg.target).str8(msg.source).str8(msg.sourceAddress);
      break;
    case 'indirect-ping':
      w.u32(msg.seq).str8(msg.target).str8(msg.targetAddress).u8(msg.wantNack ? 1 : 0).str8(msg.source).str8(msg.sourceAddress);
      break;
    case 'ack':
    case 'nack':
      w.u32(msg.seq);
      break;
    case 'alive':
      w.u32(msg.incarnation).str8(msg.name).str8(msg.address).bytes16(msg.meta);
      break;
    case 'suspect':
      w.u32(msg.incarnation).str8(msg.name).str8(msg.from);
      break;
    case 'dead':
      w.u32(msg.incarnation).str8(msg.name).str8(msg.from).u8(msg.left ? 1 : 0);
      break;
    case 'user':
      w.raw(msg.payload);
      break;
  }
  if (msg.type !== 'user' && msg.proof) w.bytes16(msg.proof);
  const payloadLength = w.length - FRAME_OVERHEAD;
  if (payloadLength > 0xffff) throw new RangeError('frame payload too large');
  w.patchU16(1, payloadLength);
  return w.finish();
}

/** Builds a packet plaintext from frames (primary first). */
export function encodePacket(frames: readonly Uint8Array[]): Uint8Array {
  let size = 1;
  for (const f of frames) size += f.length;
  const out = new Uint8Array(size);
  out[0] = WIRE_VERSION;
  let pos = 1;
  for (const f of frames) {
    out.set(f, pos);
    pos += f.length;
  }
  return out;
}

export interface DecodedPacket {
  messages: SwimMessage[];
  /** Frames of types this version does not know (skipped). */
  unknownFrames: number;
}

/** Decodes a packet plaintext; undefined if the version is unknown or any frame is malformed. */
export function decodePacket(bytes: Uint8Array, maxMetadataBytes = 0xffff): DecodedPacket | undefined {
  try {
    const r = new Reader(bytes);
    if (r.u8() !== WIRE_VERSION) return undefined;
    const messages: SwimMessage[] = [];
    let unknownFrames = 0;
    while (r.remaining > 0) {
      const type = r.u8();
      const payload = r.raw(r.u16());
      const msg = decodePayload(type, payload, maxMetadataBytes);
      if (msg) messages.push(msg);
      else unknownFrames++;
    }
    return { messages, unknownFrames };
  } catch (err) {
    if (err instanceof MalformedInput) return undefined;
    throw err;
  }
}

function decodePayload(type: number, payload: Uint8Array, maxMetadataBytes: number): SwimMessage | undefined {
  const r = new Reader(payload);
  let msg: SwimMessage;
  switch (type) {
    case MessageType.Ping:
      msg = { type: 'ping', seq: r.u32(), target: r.str8(), source: r.str8(), sourceAddress: r.str8() };
      break;
    case MessageType.IndirectPing:
      msg = { type: 'indirect-ping', seq: r.u32(), target: r.str8(), targetAddress: r.str8(), wantNack: r.u8() === 1, source: r.str8(), sourceAddress: r.str8() };
      break;
    case MessageType.Ack:
      msg = { type: 'ack', seq: r.u32() };
      break;
    case MessageType.Nack:
      msg = { type: 'nack', seq: r.u32() };
      break;
    case MessageType.Alive:
      msg = { type: 'alive', incarnation: r.u32(), name: r.str8(), address: r.str8(), meta: r.bytes16(maxMetadataBytes) };
      break;
    case MessageType.Suspect:
      msg = { type: 'suspect', incarnation: r.u32(), name: r.str8(), from: r.str8() };
      break;
    case MessageType.Dead:
      msg = { type: 'dead', incarnation: r.u32(), name: r.str8(), from: r.str8(), left: r.u8() === 1 };
      break;
    case MessageType.User:
      return { type: 'user', payload: payload.slice() };
    default:
      return undefined;
  }
  if (r.remaining >= 2) {
    try {
      msg.proof = r.bytes16(MAX_PROOF_BYTES).slice();
    } catch {
      // Not a proof: a receiver that requires one refuses the message.
    }
  }
  // Trailing bytes are allowed: a newer version may append fields to a message.
  return msg;
}

function typeCode(msg: SwimMessage): number {
  switch (msg.type) {
    case 'ping': return MessageType.Ping;
    case 'indirect-ping': return MessageType.IndirectPing;
    case 'ack': return MessageType.Ack;
    case 'nack': return MessageType.Nack;
    case 'alive': return MessageType.Alive;
    case 'suspect': return MessageType.Suspect;
    case 'dead': return MessageType.Dead;
    case 'user': return MessageType.User;
  }
}

// ---- push-pull (stream) ----

export interface PushPullEntry {
  name: string;
  address: string;
  meta: Uint8Array;
  incarnation: number;
  state: MemberState;
  /** With identities: the member's own proof of its alive (or left) record. */
  proof?: Uint8Array;
}

/**
 * One push-pull message. Anti-entropy first compares `digest`s; full `entries` travel only on a
 * join or when the digests differ (`needState` asks the other side for its entries).
 */
export interface PushPullMsg {
  join: boolean;
  needState: boolean;
  digest: number;
  entries: PushPullEntry[] | undefined;
  userState: Uint8Array | undefined;
  /** With identities: the sender's proof over the message (decoded: what it covers). */
  signed?: { content: Uint8Array; proof: Uint8Array };
}

const STATE_CODES: readonly MemberState[] = ['alive', 'suspect', 'dead', 'left'];
const FLAG_JOIN = 1;
const FLAG_NEED_STATE = 2;
const FLAG_HAS_ENTRIES = 4;
const FLAG_HAS_USER_STATE = 8;
const FLAG_HAS_PROOFS = 16;
const FLAG_SIGNED = 32;
/** Smallest possible encoded entry: empty name/address/meta (3 length bytes) + incarnation + state. */
const MIN_ENTRY_BYTES = 1 + 1 + 2 + 4 + 1;

/** `prove`: with identities, signs the message (entries then carry their members' proofs). */
export function encodePushPull(msg: PushPullMsg, prove?: (content: Uint8Array) => Uint8Array): Uint8Array {
  const w = new Writer(256 + (msg.entries?.length ?? 0) * 48 + (msg.userState?.length ?? 0));
  w.u8(WIRE_VERSION).u8(StreamType.PushPull);
  let flags = 0;
  if (msg.join) flags |= FLAG_JOIN;
  if (msg.needState) flags |= FLAG_NEED_STATE;
  if (msg.entries) flags |= FLAG_HAS_ENTRIES;
  if (msg.userState) flags |= FLAG_HAS_USER_STATE;
  if (prove) flags |= FLAG_HAS_PROOFS | FLAG_SIGNED;
  w.u8(flags).u32(msg.digest);
  if (msg.entries) {
    w.u32(msg.entries.length);
    for (const e of msg.entries) {
      w.str8(e.name).str8(e.address).bytes16(e.meta).u32(e.incarnation).u8(STATE_CODES.indexOf(e.state));
      if (prove) w.bytes16(e.proof ?? new Uint8Array(0));
    }
  }
  if (msg.userState) w.bytes32(msg.userState);
  if (!prove) return w.finish();
  const content = w.finish();
  return new Writer(content.length + 300).raw(content).bytes16(prove(content)).finish();
}

/** Decodes a push-pull message; sizes are checked against what is left before allocating. */
export function decodePushPull(bytes: Uint8Array, maxStreamBytes: number, maxMetadataBytes = 0xffff): PushPullMsg | undefined {
  if (bytes.length > maxStreamBytes) return undefined;
  try {
    const r = new Reader(bytes);
    if (r.u8() !== WIRE_VERSION || r.u8() !== StreamType.PushPull) return undefined;
    const flags = r.u8();
    const digest = r.u32();
    let entries: PushPullEntry[] | undefined;
    if (flags & FLAG_HAS_ENTRIES) {
      const count = r.u32();
      if (count * MIN_ENTRY_BYTES > r.remaining) return undefined;
      entries = [];
      for (let i = 0; i < count; i++) {
        const name = r.str8();
        const address = r.str8();
        const meta = r.bytes16(maxMetadataBytes);
        const incarnation = r.u32();
        const state = STATE_CODES[r.u8()];
        if (!state) return undefined;
        const proof = flags & FLAG_HAS_PROOFS ? r.bytes16(MAX_PROOF_BYTES) : undefined;
        entries.push(proof && proof.length > 0 ? { name, address, meta, incarnation, state, proof: proof.slice() } : { name, address, meta, incarnation, state });
      }
    }
    const userState = flags & FLAG_HAS_USER_STATE ? r.bytes32(maxStreamBytes) : undefined;
    let signed: PushPullMsg['signed'];
    if (flags & FLAG_SIGNED) {
      const content = bytes.subarray(0, bytes.length - r.remaining);
      signed = { content, proof: r.bytes16(MAX_PROOF_BYTES) };
    }
    return { join: (flags & FLAG_JOIN) !== 0, needState: (flags & FLAG_NEED_STATE) !== 0, digest, entries, userState, ...(signed ? { signed } : {}) };
  } catch (err) {
    if (err instanceof MalformedInput) return undefined;
    throw err;
  }
}
