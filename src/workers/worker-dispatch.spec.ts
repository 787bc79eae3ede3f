import { noopLogger, SystemClock, SystemTimers, type Metrics } from '@drover/runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load-config';
import { WorkerRegistryService } from './worker-registry.service';

/** Gauges as last set, keyed `name{worker}`. */
function recordingMetrics(): Metrics & { gauges: Map<string, number> } {
  const gauges = new Map<string, number>();
  const scrapeHooks: (() => void)[] = [];
  return {
    // The registry publishes its in-flight gauges at scrape time: reading them is a scrape.
    get gauges() {
      for (const hook of scrapeHooks) hook();
      return gauges;
    },
    onScrape: (hook: () => void) => void scrapeHooks.push(hook),
    inc: () => undefined,
    observe: () => undefined,
    set: (name: string, value: number, labels?: Record<string, string>) => void gauges.set(`${name}{${labels?.worker ?? ''}}`, value),
  } as unknown as Metrics & { gauges: Map<string, number> };
}

// A worker nobody listens on: registered (not_ready), which is all the counters need.
async function registryWithWorker() {
  const config = loadConfig(['--log-level', 'silent', '--worker-connect-timeout-ms', '200'], {});
  const metrics = recordingMetrics();
  const registry = new WorkerRegistryService(config, new SystemClock(), new SystemTimers(), noopLogger, metrics);
  const w = await registry.add({ url: 'grpc://127.0.0.1:1' });
  return { registry, w, metrics };
}

describe('worker registry: requests awaiting their first token', () => {
  let registry: WorkerRegistryService | undefined;
  afterEach(() => registry?.onApplicationShutdown());

  it('counts a dispatch from acquire until its first token, and in flight until release', async () => {
    const r = await registryWithWorker();
    registry = r.registry;
    const a = r.registry.acquire(r.w);
    const b = r.registry.acquire(r.w);
    expect([r.w.inFlight, r.w.awaitingFirstToken]).toEqual([2, 2]);
    expect(r.metrics.gauges.get(`drover_worker_awaiting_first_token{${r.w.id}}`)).toBe(2);
    r.registry.firstToken(a);
    r.registry.firstToken(a); // every further token: no change
    expect([r.w.inFlight, r.w.awaitingFirstToken]).toEqual([2, 1]);
    r.registry.release(r.w, 'ok', a);
    expect([r.w.inFlight, r.w.awaitingFirstToken]).toEqual([1, 1]);
    r.registry.release(r.w, 'ok', b);
    expect([r.w.inFlight, r.w.awaitingFirstToken]).toEqual([0, 0]);
    expect(r.metrics.gauges.get(`drover_worker_awaiting_first_token{${r.w.id}}`)).toBe(0);
    expect(r.metrics.gauges.get(`drover_worker_in_flight{${r.w.id}}`)).toBe(0);
  });

  it('an error, abort or timeout before the first token (release without firstToken) stops the wait', async () => {
    const r = await registryWithWorker();
    registry = r.registry;
    const failed = r.registry.acquire(r.w);
    const aborted = r.registry.acquire(r.w);
    const streaming = r.registry.acquire(r.w);
    r.registry.firstToken(streaming);
    r.registry.release(r.w, 'failed', failed);
    expect([r.w.inFlight, r.w.awaitingFirstToken]).toEqual([2, 1]);
    r.registry.release(r.w, 'neutral', aborted);
    expect([r.w.inFlight, r.w.awaitingFirstToken]).toEqual([1, 0]);
    // A first token reported after its dispatch was released (a late chunk) changes nothing.
    r.registry.firstToken(aborted);
    expect([r.w.inFlight, r.w.awaitingFirstToken]).toEqual([1, 0]);
    r.registry.release(r.w, 'ok', streaming);
    expect([r.w.inFlight, r.w.awaitingFirstToken]).toEqual([0, 0]);
  });

  it('a retry is a new dispatch: the failed attempt settles, the next one counts afresh', async () => {
    const r = await registryWithWorker();
    registry = r.registry;
    const first = r.registry.acquire(r.w);
    r.registry.release(r.w, 'failed', first);
    const second = r.registry.acquire(r.w);
    expect([r.w.inFlight, r.w.awaitingFirstToken]).toEqual([1, 1]);
    r.registry.firstToken(second);
    r.registry.release(r.w, 'ok', second);
    expect([r.w.inFlight, r.w.awaitingFirstToken]).toEqual([0, 0]);
  });

  it('a second release of the same dispatch is a no-op (no double decrement of another request)', async () => {
    const r = await registryWithWorker();
    registry = r.registry;
    const a = r.registry.acquire(r.w);
    r.registry.acquire(r.w);
    r.registry.release(r.w, 'neutral', a);
    r.registry.release(r.w, 'neutral', a);
    expect([r.w.inFlight, r.w.awaitingFirstToken]).toEqual([1, 1]);
  });

  it('a release without its dispatch still never leaves more awaiting than in flight', async () => {
    const r = await registryWithWorker();
    registry = r.registry;
    r.registry.acquire(r.w);
    r.registry.acquire(r.w);
    r.registry.release(r.w, 'neutral');
    expect([r.w.inFlight, r.w.awaitingFirstToken]).toEqual([1, 1]);
    r.registry.release(r.w, 'neutral');
    expect([r.w.inFlight, r.w.awaitingFirstToken]).toEqual([0, 0]);
  });

  it('shows in the worker view next to in_flight', async () => {
    const r = await registryWithWorker();
    registry = r.registry;
    const { workerView } = await import('./worker-record');
    r.registry.acquire(r.w);
    expect(workerView(r.w)).toMatchObject({ in_flight: 1, awaiting_first_token: 1 });
  });
});
