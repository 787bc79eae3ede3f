import { describe, expect, it } from 'vitest';
import { SeededRng } from '@drover/runtime';
import { decodePacket, decodePushPull, encodeFrame, encodePacket, encodePushPull, type PushPullMsg, type SwimMessage } from './wire';

const messages: SwimMessage[] = [
  { type: 'ping', seq: 1, target: 'node-2', source: 'node-1', sourceAddress: '10.0.0.1:7946' },
  { type: 'indirect-ping', seq: 4294967295, target: 'nœud', targetAddress: '[::1]:7946', wantNack: true, source: 'a', sourceAddress: 'a:1' },
  { type: 'ack', seq: 7 },
  { type: 'nack', seq: 8 },
  { type: 'alive', incarnation: 3, name: 'n', address: 'n:1', meta: new Uint8Array([1, 2, 3]) },
  { type: 'suspect', incarnation: 0, name: 'n', from: 'm' },
  { type: 'dead', incarnation: 9, name: 'n', from: 'n', left: true },
  { type: 'user', payload: new Uint8Array([9, 9]) },
];

describe('wire codec', () => {
  it.each(messages.map((m) => [m.type, m] as const))('round-trips %s', (_type, msg) => {
    const decoded = decodePacket(encodePacket([encodeFrame(msg)]));
    expect(decoded).toEqual({ messages: [msg], unknownFrames: 0 });
  });

  it('carries a primary message and piggybacked gossip in one packet', () => {
    const decoded = decodePacket(encodePacket(messages.map(encodeFrame)));
    expect(decoded?.messages).toEqual(messages);
  });

  it('skips frames of unknown (newer) types and counts them', () => {
    const unknown = new Uint8Array([200, 0, 2, 1, 2]);
    const decoded = decodePacket(encodePacket([encodeFrame(messages[2]), unknown, encodeFrame(messages[3])]));
    expect(decoded?.messages).toEqual([messages[2], messages[3]]);
    expect(decoded?.unknownFrames).toBe(1);
  });

  it('returns undefined for an unknown version, truncation and oversize metadata', () => {
    const good = encodePacket([encodeFrame(messages[0])]);
    expect(decodePacket(new Uint8Array([99, ...good.subarray(1)]))).toBeUndefined();
    expect(decodePacket(good.subarray(0, good.length - 1))).toBeUndefined();
    expect(decodePacket(new Uint8Array([]))).toBeUndefined();
    const alive = encodePacket([encodeFrame({ type: 'alive', incarnation: 1, name: 'n', address: 'a', meta: new Uint8Array(600) })]);
    expect(decodePacket(alive, 512)).toBeUndefined();
    expect(decodePacket(alive, 1024)).toBeDefined();
  });

  it('never throws on random garbage', () => {
    const rng = new SeededRng('garbage');
    for (let i = 0; i < 5000; i++) {
      const bytes = new Uint8Array(rng.int(64));
      for (let j = 0; j < bytes.length; j++) bytes[j] = rng.int(256);
      if (rng.bool()) bytes[0] = 1;
      expect(() => decodePacket(bytes)).not.toThrow();
      expect(() => decodePushPull(bytes, 1 << 20)).not.toThrow();
    }
  });

  it('round-trips push-pull with and without entries', () => {
    const full: PushPullMsg = {
      join: true,
      needState: false,
      digest: 0xdeadbeef,
      entries: [
        { name: 'a', address: 'a:1', meta: new Uint8Array([1]), incarnation: 2, state: 'alive' },
        { name: 'b', address: 'b:1', meta: new Uint8Array(0), incarnation: 0, state: 'left' },
      ],
      userState: new Uint8Array([5, 6]),
    };
    expect(decodePushPull(encodePushPull(full), 1 << 20)).toEqual(full);
    const digestOnly: PushPullMsg = { join: false, needState: true, digest: 1, entries: undefined, userState: undefined };
    expect(decodePushPull(encodePushPull(digestOnly), 1 << 20)).toEqual(digestOnly);
  });

  it('refuses push-pull over the size cap or claiming more entries than bytes', () => {
    const msg: PushPullMsg = { join: false, needState: false, digest: 1, entries: [], userState: undefined };
    const bytes = encodePushPull(msg);
    expect(decodePushPull(bytes, bytes.length - 1)).toBeUndefined();
    const lying = bytes.slice();
    new DataView(lying.buffer).setUint32(7, 1_000_000);
    expect(decodePushPull(lying, 1 << 20)).toBeUndefined();
  });
});
