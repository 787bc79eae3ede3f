import { describe, expect, it } from 'vitest';
import { LoadTable } from '../load/load-table';
import { LwwRouteTable, type RouteOp } from './lww-route-table';
import { OpLog } from './op-log';

describe('OpLog', () => {
  it('holds the last `capacity` ops by sequence number and never more', () => {
    const log = new OpLog<number>(4);
    expect(log.oldestSeq).toBe(1);
    expect(log.canResumeAfter(0)).toBe(true);
    for (let i = 1; i <= 10; i++) expect(log.append(i * 10)).toBe(i);
    expect(log.length).toBe(4);
    expect(log.oldestSeq).toBe(7);
    expect(log.slice(7, 10)).toEqual([70, 80, 90, 100]);
    expect(log.canResumeAfter(6)).toBe(true);
    expect(log.canResumeAfter(5)).toBe(false);
    expect(log.canResumeAfter(11)).toBe(false);
    expect(() => log.slice(6, 8)).toThrow(RangeError);
  });
});

describe('LwwRouteTable codecs', () => {
  const table: Array<[string, RouteOp[]]> = [
    ['no ops', []],
    ['one op', [{ prefix: 0, worker: 'w', time: 0 }]],
    [
      'extremes',
      [
        { prefix: 0xffffffff, worker: 'wörker-ü', time: Number.MAX_SAFE_INTEGER },
        { prefix: 12345, worker: '', time: 1 },
      ],
    ],
  ];

  it.each(table)('round-trips %s', (_name, ops) => {
    const t = new LwwRouteTable('a');
    expect(t.decodeOps(t.encodeOps(ops), 100)).toEqual(ops);
  });

  it('rejects malformed batches and counts beyond the cap', () => {
    const t = new LwwRouteTable('a');
    const ops = [{ prefix: 1, worker: 'w1', time: 1 }];
    const bytes = t.encodeOps(ops);
    expect(t.decodeOps(bytes.subarray(0, bytes.length - 1), 10)).toBeUndefined();
    expect(t.decodeOps(Uint8Array.of(...bytes, 0), 10)).toBeUndefined();
    expect(t.decodeOps(t.encodeOps([...ops, ...ops]), 1)).toBeUndefined();
    expect(t.decodeOps(Uint8Array.of(0xff, 0xff, 0x03), 1_000_000)).toBeUndefined();
  });

  it('resolves LWW by (time, origin) in any order of application', () => {
    const ops: Array<[string, RouteOp]> = [
      ['a', { prefix: 7, worker: 'w1', time: 5 }],
      ['b', { prefix: 7, worker: 'w2', time: 9 }],
      ['c', { prefix: 7, worker: 'w3', time: 9 }],
      ['a', { prefix: 7, worker: 'w4', time: 3 }],
    ];
    const orders = [ops, [...ops].reverse(), [ops[2], ops[0], ops[3], ops[1]]];
    for (const order of orders) {
      const t = new LwwRouteTable('self');
      for (const [origin, op] of order) t.applyOp(origin, op);
      t.applyOp('b', ops[1][1]);
      expect(t.lookup(7)).toBe('w3');
    }
  });

  it('snapshots its own shard and a receiver replaces that origin with it', () => {
    const origin = new LwwRouteTable('a');
    for (let i = 0; i < 100; i++) origin.observe(i, `w${i % 3}`, i);
    const receiver = new LwwRouteTable('b');
    receiver.applyOp('a', { prefix: 999, worker: 'stale', time: 1 });
    expect(receiver.applySnapshot('a', origin.encodeSnapshot())).toBe(true);
    expect(receiver.originEntries('a')).toEqual(origin.originEntries('a'));
    expect(receiver.applySnapshot('a', Uint8Array.of(5, 1))).toBe(false);
  });

  it('bounds each origin by evicting its oldest entries', () => {
    const t = new LwwRouteTable('a', 10);
    for (let i = 0; i < 100; i++) t.observe(i, 'w', i);
    expect(t.size).toBe(10);
    expect(t.lookup(99)).toBe('w');
    expect(t.lookup(0)).toBeUndefined();
  });
});

describe('LoadTable', () => {
  it('keeps the newest table per origin and ignores a reordered older one', () => {
    const t = new LoadTable(1);
    const msg = (version: number, inFlight: number) => ({ type: 'load' as const, epoch: 9, version, entries: [{ workerId: 'w', inFlight, queued: 0 }] });
    expect(t.onRemote('b', msg(2, 5), 0)).toBe(true);
    expect(t.onRemote('b', msg(1, 9), 0)).toBe(false);
    expect(t.meshLoad().get('w')).toEqual({ inFlight: 5, queued: 0 });
    // A restarted node (new epoch) starts its versions over and is taken as is.
    expect(t.onRemote('b', { ...msg(0, 1), epoch: 10 }, 0)).toBe(true);
    expect(t.meshLoad().get('w')).toEqual({ inFlight: 1, queued: 0 });
  });

  it('marks itself dirty only when a number moves', () => {
    const t = new LoadTable(1);
    t.setLocal('w', { inFlight: 1, queued: 0 });
    expect(t.isDirty).toBe(true);
    t.markSent();
    t.setLocal('w', { inFlight: 1, queued: 0 });
    expect(t.isDirty).toBe(false);
    t.setLocal('w', { inFlight: 0, queued: 0 });
    expect(t.message().entries).toEqual([]);
  });
});
