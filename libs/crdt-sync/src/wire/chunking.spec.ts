import { describe, expect, it } from 'vitest';
import { DEFAULT_SYNC_LIMITS, MIN_FRAME_BYTES } from '../limits';
import { Reassembler, splitIntoFrames } from './chunking';
import { decodeMessage, encodeMessage } from './envelope';
import type { SyncMessage } from './messages';

const limits = { ...DEFAULT_SYNC_LIMITS, maxFrameBytes: 4096, maxConcurrentTransfersPerPeer: 2, transferTimeoutMs: 1000 };
type Chunk = Extract<SyncMessage, { type: 'chunk' }>;

/** Bytes deflate cannot shrink, so the envelope really exceeds the frame cap. */
function noise(n: number, seed = 1): Uint8Array {
  let x = seed;
  return Uint8Array.from({ length: n }, () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 16) & 0xff);
}

function chunksOf(envelope: Uint8Array, frame: number, id: number): Chunk[] {
  return splitIntoFrames(envelope, frame, id).map((f) => decodeMessage(f, limits) as Chunk);
}

describe('chunking', () => {
  it('leaves a message under the cap whole', () => {
    const env = encodeMessage({ type: 'hello', nodeId: 'a', maxFrameBytes: 1 });
    expect(splitIntoFrames(env, MIN_FRAME_BYTES, 1)).toEqual([env]);
  });

  it.each([MIN_FRAME_BYTES, 1500, 4096])('splits under a %i-byte cap and reassembles in any order', (frame) => {
    const snapshot = noise(50_000);
    const env = encodeMessage({ type: 'shard-snapshot', epoch: 3, seq: 9, snapshot });
    const frames = splitIntoFrames(env, frame, 42);
    expect(frames.length).toBeGreaterThan(1);
    for (const f of frames) expect(f.length).toBeLessThanOrEqual(frame);
    const chunks = frames.map((f) => decodeMessage(f, limits) as Chunk).reverse();
    const r = new Reassembler(limits);
    const results = chunks.map((c) => r.accept(c, 0));
    const done = results.at(-1)!;
    expect(results.slice(0, -1).every((x) => x.status === 'pending')).toBe(true);
    expect(done.status).toBe('complete');
    if (done.status === 'complete') expect(decodeMessage(done.envelope, limits)).toEqual({ type: 'shard-snapshot', epoch: 3, seq: 9, snapshot });
    expect(r.pendingTransfers).toBe(0);
  });

  it('ignores a duplicated chunk', () => {
    const env = encodeMessage({ type: 'doc-update', epoch: { n: 0, id: 0 }, update: noise(3000, 2) });
    const [a, b, ...rest] = chunksOf(env, MIN_FRAME_BYTES, 1);
    const r = new Reassembler(limits);
    expect(r.accept(a, 0).status).toBe('pending');
    expect(r.accept(a, 0).status).toBe('pending');
    expect(r.accept(b, 0).status).toBe(rest.length === 0 ? 'complete' : 'pending');
  });

  it('drops a transfer whose chunks disagree on the count', () => {
    const r = new Reassembler(limits);
    const data = new Uint8Array(10);
    expect(r.accept({ type: 'chunk', transferId: 1, index: 0, count: 3, data }, 0).status).toBe('pending');
    expect(r.accept({ type: 'chunk', transferId: 1, index: 1, count: 4, data }, 0)).toEqual({ status: 'dropped', reason: 'chunk_malformed' });
    expect(r.pendingTransfers).toBe(0);
  });

  it('caps concurrent transfers, chunk counts and total bytes', () => {
    const r = new Reassembler(limits);
    const data = new Uint8Array(10);
    r.accept({ type: 'chunk', transferId: 1, index: 0, count: 2, data }, 0);
    r.accept({ type: 'chunk', transferId: 2, index: 0, count: 2, data }, 0);
    expect(r.accept({ type: 'chunk', transferId: 3, index: 0, count: 2, data }, 0)).toEqual({ status: 'dropped', reason: 'chunk_overflow' });
    expect(r.accept({ type: 'chunk', transferId: 1, index: 1, count: 2, data }, 0).status).toBe('complete');
    expect(new Reassembler(limits).accept({ type: 'chunk', transferId: 9, index: 0, count: 10_000_000, data }, 0)).toEqual({
      status: 'dropped',
      reason: 'chunk_overflow',
    });
    const tiny = new Reassembler({ ...limits, maxMessageBytes: 15 });
    tiny.accept({ type: 'chunk', transferId: 1, index: 0, count: 2, data }, 0);
    expect(tiny.accept({ type: 'chunk', transferId: 1, index: 1, count: 2, data }, 0)).toEqual({ status: 'dropped', reason: 'too_large' });
  });

  it('expires transfers that never complete', () => {
    const r = new Reassembler(limits);
    r.accept({ type: 'chunk', transferId: 1, index: 0, count: 2, data: new Uint8Array(1) }, 0);
    expect(r.expire(500)).toBe(0);
    expect(r.expire(1001)).toBe(1);
    expect(r.pendingTransfers).toBe(0);
  });
});
