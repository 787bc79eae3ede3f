import { describe, expect, it } from 'vitest';
import { noopLogger, noopMetrics, SeededRng, SystemClock, SystemTimers } from '@drover/runtime';
import type { TreeOp } from '@drover/radix-tree';
import { loadConfig } from '../config/load-config';
import { CircuitBreaker } from '../workers/circuit-breaker';
import type { WorkerRecord } from '../workers/worker-record';
import type { WorkerRegistryService } from '../workers/worker-registry.service';
import { RoutingService } from './routing.service';

const clock = new SystemClock();

function worker(id: string): WorkerRecord {
  return {
    id,
    spec: { url: `grpc://127.0.0.1:${id.length}` },
    kind: 'grpc',
    client: {} as never,
    model: 'm',
    modelInfo: { servedModelName: 'm', maxContextLength: 4096, eosTokenIds: [], supportsVision: false } as never,
    health: 'ready',
    draining: false,
    inFlight: 0,
    awaitingFirstToken: 0,
    circuit: new CircuitBreaker(clock, { failureThreshold: 5, cooldownMs: 1000, halfOpenMaxProbes: 1, successThreshold: 1 }, () => undefined),
    createdAt: 0,
  } as unknown as WorkerRecord;
}

function routingOver(workers: WorkerRecord[]): { routing: RoutingService; ops: TreeOp[] } {
  const byId = new Map(workers.map((w) => [w.id, w]));
  const registry = { list: () => workers, find: (id: string) => byId.get(id), onChange: () => undefined } as unknown as WorkerRegistryService;
  const config = { ...loadConfig([], {}), policy: 'cache_aware' as const, kvEvents: false };
  const routing = new RoutingService(config, new SeededRng('routing-spec'), clock, new SystemTimers(), noopLogger, noopMetrics, registry);
  routing.onModuleInit();
  const ops: TreeOp[] = [];
  routing.onRouteOp((_model, op) => ops.push(op));
  return { routing, ops };
}

const prompt = Array.from({ length: 64 }, (_, i) => 1000 + i);
const input = { model: 'm', tokens: prompt, headers: {} };

describe('RoutingService record / withdraw', () => {
  it('records from the policy\'s own walk and routes the same prefix to the same worker as a cache hit', () => {
    const { routing, ops } = routingOver([worker('a'), worker('b')]);
    const first = routing.select(input);
    expect(first.prefixMatch).toBeDefined();
    routing.record(input, first.worker, first);
    expect(ops.map((o) => o.kind)).toEqual(['insert']);
    const second = routing.select(input);
    expect(second.worker.id).toBe(first.worker.id);
    expect(second.reason).toBe('cache_hit');
  });

  it('withdraws the ownership of a request whose worker failed before its first token, and tells the mesh', () => {
    const { routing, ops } = routingOver([worker('a'), worker('b')]);
    const first = routing.select(input);
    const recorded = routing.record(input, first.worker, first);
    routing.withdraw('m', recorded);
    expect(ops.map((o) => o.kind)).toEqual(['insert', 'withdraw']);
    expect(routing.shardsFor('m').match(prompt).perOwner.get(first.worker.id) ?? 0).toBe(0);
    expect(routing.select(input).reason).not.toBe('cache_hit');
  });
});

describe('RoutingService roles (prefill/decode disaggregation)', () => {
  const withRole = (id: string, role: 'regular' | 'prefill' | 'decode'): WorkerRecord => {
    const w = worker(id);
    w.spec = { ...w.spec, role };
    return w;
  };

  it('never routes a regular request to a prefill or decode worker', () => {
    const { routing } = routingOver([withRole('p', 'prefill'), withRole('d', 'decode'), withRole('r', 'regular')]);
    for (let i = 0; i < 20; i++) expect(routing.select({ ...input, tokens: [i, ...prompt] }).worker.id).toBe('r');
  });

  it('selects each side of a pair from its own pool, and says the model is disaggregated', () => {
    const { routing } = routingOver([withRole('p1', 'prefill'), withRole('p2', 'prefill'), withRole('d', 'decode')]);
    expect(routing.isDisaggregated('m')).toBe(true);
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) seen.add(routing.select({ ...input, tokens: [i, ...prompt], role: 'prefill' }).worker.id);
    expect([...seen].sort()).toEqual(['p1', 'p2']);
    expect(routing.select({ ...input, role: 'decode' }).worker.id).toBe('d');
    // No regular worker: a regular request finds none (the PD path serves this model).
    expect(() => routing.select(input)).toThrow(/no healthy worker/);
  });

  it('a fleet without roles is not disaggregated and routes as before', () => {
    const { routing } = routingOver([worker('a'), worker('b')]);
    expect(routing.isDisaggregated('m')).toBe(false);
    expect(['a', 'b']).toContain(routing.select(input).worker.id);
  });
});
