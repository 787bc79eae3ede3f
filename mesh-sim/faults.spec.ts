import { describe, expect, it } from 'vitest';
import { checkNames, FaultSyntaxError, parseDuration, parseFault } from './faults';

describe('mesh-sim fault grammar', () => {
  it.each([
    ['kill node-2 at 10s', { kind: 'kill', target: 'node-2', atMs: 10_000 }],
    ['restart node-2 at 30s', { kind: 'restart', target: 'node-2', atMs: 30_000 }],
    ['kill worker-1 at 20s', { kind: 'kill', target: 'worker-1', atMs: 20_000 }],
    ['partition node-0,node-1 | node-2,node-3,node-4 from 40s to 70s', { kind: 'partition', groups: [['node-0', 'node-1'], ['node-2', 'node-3', 'node-4']], fromMs: 40_000, toMs: 70_000 }],
    ['loss 10% from 0s', { kind: 'loss', rate: 0.1, target: undefined, fromMs: 0, toMs: Infinity }],
    ['delay 50ms~20ms node-3 from 0s', { kind: 'delay', meanMs: 50, jitterMs: 20, target: 'node-3', fromMs: 0, toMs: Infinity }],
    ['stall worker-2 from 50s to 60s', { kind: 'stall', target: 'worker-2', fromMs: 50_000, toMs: 60_000 }],
    ['flap node-4 every 5s from 80s to 100s', { kind: 'flap', target: 'node-4', everyMs: 5000, fromMs: 80_000, toMs: 100_000 }],
    ['rolling-restart every 10s from 20s', { kind: 'rolling-restart', everyMs: 10_000, fromMs: 20_000 }],
    ['churn 5% every 10s from 10s to 100s', { kind: 'churn', fraction: 0.05, everyMs: 10_000, fromMs: 10_000, toMs: 100_000 }],
  ])('parses %s', (input, expected) => {
    expect(parseFault(input)).toEqual(expected);
  });

  it.each([
    ['explode node-1 at 1s', /unknown fault/],
    ['kill node-x at 1s', /not a node-K/],
    ['kill node-1 10s', /expected 'at/],
    ['loss 150% from 0s', /percentage/],
    ['partition node-0 node-1 from 1s to 2s', /partition A,B \| C,D/],
    ['stall node-1 from 1s to 2s', /stall applies to workers/],
    ['stall worker-1 from 5s to 2s', /'to' must be after/],
    ['kill node-1 at 10 seconds', /duration/],
  ])('rejects %s with a clear message', (input, message) => {
    expect(() => parseFault(input)).toThrow(FaultSyntaxError);
    expect(() => parseFault(input)).toThrow(message);
  });

  it('rejects names outside the cluster', () => {
    const f = parseFault('kill node-7 at 1s');
    expect(() => checkNames(f, 5, 2, 'kill node-7 at 1s')).toThrow(/node-7 does not exist/);
    expect(() => checkNames(parseFault('join node-5 at 1s'), 5, 2, 'x')).not.toThrow();
  });

  it('parses durations', () => {
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('2m')).toBe(120_000);
  });
});
