import { deflate } from 'pako';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SYNC_LIMITS } from '../limits';
import { ByteWriter } from './bytes';
import { decodeMessage, decodeMessageOrReason, encodeMessage, WIRE_VERSION } from './envelope';
import { MESSAGE_TAGS, type SyncMessage } from './messages';

const limits = DEFAULT_SYNC_LIMITS;
const bytes = (n: number, fill = 7) => new Uint8Array(n).fill(fill);

const table: Array<[string, SyncMessage]> = [
  ['hello', { type: 'hello', nodeId: 'gw-ü-1', maxFrameBytes: 65536 }],
  ['doc step 1', { type: 'doc-step1', epoch: { n: 3, id: 0xfffffffe }, stateVector: bytes(12) }],
  ['doc step 2 (diff)', { type: 'doc-step2', epoch: { n: 0, id: 0 }, full: false, update: bytes(5) }],
  ['doc step 2 (full, compressible)', { type: 'doc-step2', epoch: { n: 1, id: 9 }, full: true, update: bytes(5000) }],
  ['doc update', { type: 'doc-update', epoch: { n: 2, id: 1 }, update: bytes(0) }],
  ['shard ops', { type: 'shard-ops', epoch: 0xdeadbeef, fromSeq: 2 ** 40, count: 17, ops: bytes(300, 1) }],
  ['shard snapshot (empty)', { type: 'shard-snapshot', epoch: 1, seq: 0, snapshot: bytes(0) }],
  ['shard snapshot (large)', { type: 'shard-snapshot', epoch: 1, seq: 99, snapshot: bytes(100_000, 3) }],
  ['shard ack (gap)', { type: 'shard-ack', epoch: 5, seq: 10, gap: true, wantSnapshot: false }],
  ['shard ack (want snapshot)', { type: 'shard-ack', epoch: 0, seq: 0, gap: false, wantSnapshot: true }],
  ['load (empty)', { type: 'load', epoch: 4, version: 0, entries: [] }],
  [
    'load',
    {
      type: 'load',
      epoch: 4,
      version: 12,
      entries: Array.from({ length: 50 }, (_, i) => ({ workerId: `worker-${i}`, inFlight: i, queued: 2 * i })),
    },
  ],
  ['chunk', { type: 'chunk', transferId: 77, index: 1, count: 3, data: bytes(1000) }],
  ['shard digest', { type: 'shard-digest', epoch: 0xfffffffe, seq: 2 ** 40, digest: '0123456789abcdef0123456789abcdef' }],
  ['shard digest (no content digest)', { type: 'shard-digest', epoch: 1, seq: 0, digest: '' }],
];

describe('envelope codec', () => {
  it.each(table)('round-trips %s', (_name, msg) => {
    const encoded = encodeMessage(msg);
    expect(encoded[0]).toBe(WIRE_VERSION);
    expect(encoded[1]).toBe(MESSAGE_TAGS[msg.type]);
    expect(decodeMessage(encoded, limits)).toEqual(msg);
  });

  it('deflates large compressible payloads and leaves small ones alone', () => {
    const big = encodeMessage({ type: 'shard-snapshot', epoch: 1, seq: 1, snapshot: bytes(100_000) });
    expect(big[2] & 1).toBe(1);
    expect(big.length).toBeLessThan(2000);
    const small = encodeMessage({ type: 'shard-ack', epoch: 1, seq: 1, gap: false, wantSnapshot: false });
    expect(small[2]).toBe(0);
  });

  const malformed: Array<[string, Uint8Array, string]> = [
    ['empty input', new Uint8Array(0), 'malformed'],
    ['another wire version', Uint8Array.of(2, 1, 0, 0), 'version'],
    ['an unknown type tag', Uint8Array.of(WIRE_VERSION, 200, 0), 'unknown_type'],
    ['unknown flag bits', Uint8Array.of(WIRE_VERSION, 7, 4, 1, 1, 0), 'malformed'],
    ['a truncated payload', encodeMessage({ type: 'hello', nodeId: 'abcdef', maxFrameBytes: 1 }).subarray(0, 6), 'malformed'],
    ['trailing bytes', Uint8Array.of(...encodeMessage({ type: 'shard-ack', epoch: 1, seq: 1, gap: false, wantSnapshot: false }), 0), 'malformed'],
    ['ack flags out of range', Uint8Array.of(WIRE_VERSION, MESSAGE_TAGS['shard-ack'], 0, 1, 1, 9), 'malformed'],
    ['a zero-length op batch', Uint8Array.of(WIRE_VERSION, MESSAGE_TAGS['shard-ops'], 0, 1, 1, 0, 0), 'malformed'],
    ['a chunk index past its count', Uint8Array.of(WIRE_VERSION, MESSAGE_TAGS.chunk, 0, 1, 5, 3, 0), 'malformed'],
    ['a length prefix beyond the input', Uint8Array.of(WIRE_VERSION, MESSAGE_TAGS['doc-update'], 0, 0, 0, 0xff, 0xff, 0x03), 'malformed'],
    ['a varint that never ends', Uint8Array.of(WIRE_VERSION, MESSAGE_TAGS['shard-ack'], 0, ...new Array(12).fill(0xff)), 'malformed'],
    ['invalid utf-8 in an id', Uint8Array.of(WIRE_VERSION, MESSAGE_TAGS.hello, 0, 2, 0xc3, 0x28, 1), 'malformed'],
    ['a deflate flag on a non-compressible type', Uint8Array.of(WIRE_VERSION, MESSAGE_TAGS.hello, 1, 0), 'malformed'],
    ['corrupt deflate data', Uint8Array.of(WIRE_VERSION, MESSAGE_TAGS['doc-update'], 1, 1, 2, 3, 4, 5), 'bad_compression'],
  ];

  it.each(malformed)('rejects %s', (_name, input, reason) => {
    expect(decodeMessage(input, limits)).toBeUndefined();
    expect(decodeMessageOrReason(input, limits)).toEqual({ ok: false, reason });
  });

  it('refuses a load table whose count the input cannot hold, before allocating', () => {
    const w = new ByteWriter().varUint(1).varUint(1).varUint(60_000);
    const input = Uint8Array.of(WIRE_VERSION, MESSAGE_TAGS.load, 0, ...w.finish());
    expect(decodeMessageOrReason(input, limits)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('stops inflating a deflate bomb at the message cap', () => {
    const small = { ...limits, maxMessageBytes: 64 * 1024 };
    const payload = new ByteWriter().varUint(0).varUint(0).bytes(new Uint8Array(10_000_000)).finish();
    const bomb = deflate(payload);
    expect(bomb.length).toBeLessThan(20_000);
    const input = Uint8Array.of(WIRE_VERSION, MESSAGE_TAGS['doc-update'], 1, ...bomb);
    expect(decodeMessageOrReason(input, small)).toEqual({ ok: false, reason: 'bad_compression' });
  });

  it('never throws on random garbage', () => {
    let x = 12345;
    const rnd = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 16) & 0xff;
    for (let i = 0; i < 5000; i++) {
      const input = Uint8Array.from({ length: 1 + (i % 64) }, rnd);
      if (i % 3 === 0) input[0] = WIRE_VERSION;
      if (i % 5 === 0) input[1] = 1 + (i % 9);
      if (input.length > 2) input[2] &= 1;
      expect(() => decodeMessage(input, limits)).not.toThrow();
    }
  });
});
