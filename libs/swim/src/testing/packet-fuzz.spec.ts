import { describe, expect, it } from 'vitest';
import { CountingMetrics } from '@drover/runtime';
import { DROPPED_METRIC } from '../delegate';
import { Keyring } from '../keyring';
import { decodeStreamHeader } from '../server/stream-frames';
import { decodePacket, decodePushPull, decodeStreamPacket } from '../wire';
import { SwimCluster } from './cluster';
import { fuzzCase, fuzzSettings, replayCommand } from './fuzz';

const SPEC = 'libs/swim/src/testing/packet-fuzz.spec.ts';
/** Cases per run in CI; FUZZ_CASES=100000 for a long run. */
const { seed, indices } = fuzzSettings('swim-fuzz-1', 1500);
/** A fixed key: the run must be reproducible from FUZZ_SEED alone. */
const FIXED_KEY = Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 255);

/**
 * The SWIM packet fuzzer: a keyed cluster runs, every datagram and stream request node-1..3 send
 * is captured, and node-0 receives seeded mutations of them (random, truncated, bit-flipped,
 * spliced, extended) and verbatim replays (sent back to the node that received the original).
 * Nothing may be accepted: each case is dropped and counted (a replay as 'replayed'), none throws,
 * and no member changes state anywhere.
 */
describe('SWIM packet fuzzer (seeded; FUZZ_SEED / FUZZ_CASES / FUZZ_CASE)', () => {
  it(`drops every mutated datagram and stream request, and every replay (${indices.length} cases, seed ${seed})`, () => {
    const metrics = new CountingMetrics();
    const events: string[] = [];
    const c = SwimCluster.create({
      seed: 'fuzz-cluster',
      size: 4,
      preset: 'local',
      metrics,
      keyring: new Keyring([FIXED_KEY]),
      onEvent: (observer, e) => {
        if (e.type !== 'join' && e.type !== 'alive') events.push(`${observer}: ${e.member.name} ${e.type}`);
      },
    });
    const datagrams: Uint8Array[] = [];
    const streams: Uint8Array[] = [];
    // Who each captured message went to: a replay is sent back to the node that already opened it.
    const datagramTo: string[] = [];
    const streamTo: string[] = [];
    let capturing = true;
    for (const name of ['node-1', 'node-2', 'node-3']) {
      const t = c.get(name).transport;
      const send = t.send.bind(t);
      const request = t.request.bind(t);
      t.send = (to, bytes) => {
        if (capturing && datagrams.length < 400) {
          datagrams.push(new Uint8Array(bytes));
          datagramTo.push(to);
        }
        send(to, bytes);
      };
      t.request = (to, bytes, timeoutMs, cb) => {
        if (capturing && streams.length < 100) {
          streams.push(new Uint8Array(bytes));
          streamTo.push(to);
        }
        request(to, bytes, timeoutMs, cb);
      };
    }
    expect(c.runUntil(() => c.converged() && datagrams.length >= 100 && streams.length >= 3, 60_000), c.replay).toBe(true);
    capturing = false;
    c.advance(200); // everything captured has arrived (and been opened) by now
    expect(metrics.total(DROPPED_METRIC)).toBe(0);

    const byAddress = new Map(c.runningNodes().map((n) => [n.address, n.transport]));
    const node0 = c.get('node-0').transport;
    const view = () => JSON.stringify(c.runningNodes().map((n) => n.node.allMembers().map((m) => [m.name, m.state, m.incarnation])));
    for (const index of indices) {
      const stream = index % 4 === 3;
      const fuzz = fuzzCase(seed, index, stream ? streams : datagrams);
      const replay = `${fuzz.kind} ${stream ? 'stream' : 'datagram'} case: ${replayCommand(SPEC, seed, index)}`;
      const before = metrics.total(DROPPED_METRIC);
      const replayedBefore = metrics.counter(DROPPED_METRIC, { reason: 'replayed' });
      const viewBefore = view();
      const target = fuzz.kind === 'replay' ? byAddress.get((stream ? streamTo : datagramTo)[fuzz.baseIndex])! : node0;
      let reply: Uint8Array | undefined;
      expect(() => {
        if (stream) reply = target.answerRequest('10.9.9.9:1', fuzz.bytes);
        else target.receivePacket('10.9.9.9:1', fuzz.bytes);
      }, replay).not.toThrow();
      // Nothing is accepted: every case is dropped and counted, a replay as 'replayed' by the
      // node that opened the original, and nobody's state moves.
      expect(metrics.total(DROPPED_METRIC) - before, replay).toBe(1);
      expect(reply, replay).toBeUndefined();
      if (fuzz.kind === 'replay') expect(metrics.counter(DROPPED_METRIC, { reason: 'replayed' }) - replayedBefore, replay).toBe(1);
      expect(view(), replay).toBe(viewBefore);
      expect(metrics.counter(DROPPED_METRIC, { reason: 'handler_error' }), replay).toBe(0);
      if (index % 50 === 49) c.advance(20);
    }
    c.advance(5_000);
    expect(events, `${c.replay} seed=${seed}`).toEqual([]);
    expect(c.converged()).toBe(true);
  });

  it(`the plaintext decoders never throw on mutated input (${indices.length} cases each)`, () => {
    // Plaintexts of every message kind, unsealed: what a decoder sees after the seal is opened.
    const c = SwimCluster.create({ seed: 'fuzz-plain', size: 3, preset: 'local' });
    const datagrams: Uint8Array[] = [];
    const streams: Uint8Array[] = [];
    for (const name of ['node-0', 'node-1', 'node-2']) {
      const t = c.get(name).transport;
      const send = t.send.bind(t);
      const request = t.request.bind(t);
      t.send = (to, bytes) => (datagrams.push(new Uint8Array(bytes.subarray(1))), send(to, bytes));
      t.request = (to, bytes, ms, cb) => (streams.push(new Uint8Array(bytes.subarray(1))), request(to, bytes, ms, cb));
    }
    expect(c.runUntil(() => c.converged() && streams.length >= 3, 60_000)).toBe(true);
    for (const index of indices) {
      const d = fuzzCase(seed, index, datagrams);
      const s = fuzzCase(seed, index, streams);
      const replay = replayCommand(SPEC, seed, index);
      expect(() => decodePacket(d.bytes, 512), replay).not.toThrow();
      expect(() => decodeStreamPacket(s.bytes, 512), replay).not.toThrow();
      expect(() => decodePushPull(s.bytes, 1 << 20, 512), replay).not.toThrow();
      expect(() => decodeStreamHeader(undefined, d.bytes), replay).not.toThrow();
    }
  });
});
