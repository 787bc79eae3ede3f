import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, waitFor, type TestCluster } from '../support/cluster';
import { WorkerRegistryService } from '../../src/workers/worker-registry.service';
import { ADMIN } from '../support/auth';

describe('gateway resilience: retries, circuit breaker, first-token timeout', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster({
      workers: 3,
      worker: { decodeBaseMs: 1 },
      gateway: { policy: 'round_robin', circuitFailureThreshold: 2, circuitCooldownMs: 400, circuitSuccessThreshold: 1, ttftTimeoutMs: 1000, streamIdleTimeoutMs: 600, retryBackoffMs: 1, maxRetries: 2 },
    });
  });
  afterAll(async () => c?.close());
  const registry = () => c.gateway.app.get(WorkerRegistryService);
  const ask = () => c.client.chat.completions.create({ model: 'qwen3-mock', messages: [{ role: 'user', content: 'hello' }], max_tokens: 3 });

  it('retries a failing worker on another one: no client errors, never the same worker twice', async () => {
    // Two of three workers fail: with two retries a request only succeeds if no attempt reuses a worker.
    const seen = c.workers.map(() => new Map<string, number>());
    const restore = c.workers.map((w, i) => {
      const submit = w.engine.submit.bind(w.engine);
      w.engine.submit = (req, sink) => {
        seen[i].set(req.requestId, (seen[i].get(req.requestId) ?? 0) + 1);
        submit(req, sink);
      };
      return () => (w.engine.submit = submit);
    });
    for (const w of c.workers.slice(0, 2)) {
      w.engine.faults.failRate = 1;
      w.engine.faults.failStatus = 14; // UNAVAILABLE
    }
    try {
      const results = await Promise.all(
        Array.from({ length: 12 }, () => c.client.chat.completions.create({ model: 'qwen3-mock', messages: [{ role: 'user', content: 'hello' }], max_tokens: 3 }).withResponse()),
      );
      expect(results.every((r) => r.data.choices[0].message.content)).toBe(true);
      // The engine request id is the gateway's id of the request (x-drover-request-id).
      const ours = new Set(results.map((r) => r.response.headers.get('x-drover-request-id')!));
      expect(ours.size).toBe(12);
      for (const perWorker of seen) for (const [id, n] of perWorker) if (ours.has(id)) expect(n, `${id} sent to one worker ${n} times`).toBe(1);
      expect([...seen[2].keys()].filter((id) => ours.has(id))).toHaveLength(12);
    } finally {
      for (const w of c.workers) w.engine.faults.failRate = 0;
      restore.forEach((r) => r());
    }
  });

  it('a worker stalling mid-generation: a stream ends with an error event and [DONE], a buffered request is served elsewhere', async () => {
    const bad = registry().list().find((w) => w.spec.url === c.workers[0].url)!;
    // Earlier tests may have left its circuit open: let it close before stalling it.
    await waitFor(async () => {
      await ask();
      return bad.circuit.state === 'closed';
    }, 5000, 'circuit closed');
    c.workers[0].engine.faults.stallAfterTokens = 2;
    try {
      // Streams routed to the stalled worker get their first tokens, then an error event once it has been silent too long.
      const outcomes = await Promise.all(
        Array.from({ length: 3 }, async () => {
          const res = await fetch(`${c.gateway.url}/v1/chat/completions`, {
            method: 'POST',
            headers: { ...ADMIN, 'content-type': 'application/json' },
            body: JSON.stringify({ model: 'qwen3-mock', messages: [{ role: 'user', content: 'stall' }], max_tokens: 8, stream: true }),
          });
          return { events: (await res.text()).split('\n\n').filter(Boolean) };
        }),
      );
      const stalled = outcomes.filter((o) => o.events.some((e) => e.includes('"error"')));
      expect(stalled.length).toBeGreaterThan(0);
      for (const o of stalled) {
        expect(o.events.at(-1)).toBe('data: [DONE]');
        expect(o.events.at(-2)).toMatch(/"type":"timeout_error"/);
        expect(o.events.some((e) => e.includes('"content"'))).toBe(true);
      }
      // Buffered (non-streaming) requests are retried from scratch: every one succeeds.
      const results = await Promise.all(Array.from({ length: 6 }, ask));
      expect(results.every((r) => r.choices[0].finish_reason === 'length')).toBe(true);
      // The abandoned requests were aborted on the worker: nothing left running there.
      await waitFor(() => c.workers[0].engine.runningCount + c.workers[0].engine.waitingCount === 0, 3000, 'stalled requests aborted');
      expect(bad.inFlight).toBe(0);
    } finally {
      c.workers[0].engine.faults.stallAfterTokens = 0;
    }
  });

  it('opens the circuit of a failing worker, then half-opens and closes it after it recovers', async () => {
    const bad = registry().list().find((w) => w.spec.url === c.workers[0].url)!;
    c.workers[0].engine.faults.failRate = 1;
    await waitFor(async () => {
      await ask();
      return bad.circuit.state === 'open';
    }, 5000, 'circuit open');
    const view = (await (await fetch(`${c.gateway.url}/workers/${bad.id}`, { headers: ADMIN })).json()) as { circuit: string };
    expect(view.circuit).toBe('open');
    c.workers[0].engine.faults.failRate = 0;
    await waitFor(async () => {
      await ask();
      return bad.circuit.state === 'closed';
    }, 5000, 'circuit closed again');
  });

  it('a stalled worker trips the first-token timeout and the request is served elsewhere', async () => {
    // Stall before the first token: an absurdly slow prefill on worker 1.
    c.workers[1].engine.config.prefillTokensPerSec = 1;
    const results = await Promise.all(Array.from({ length: 6 }, ask));
    expect(results.every((r) => r.choices[0].message.content)).toBe(true);
    c.workers[1].engine.config.prefillTokensPerSec = 8000;
  });

  it('when every worker fails, the client gets the mapped status', async () => {
    for (const w of c.workers) {
      w.engine.faults.failRate = 1;
      w.engine.faults.failStatus = 8; // RESOURCE_EXHAUSTED → 429
    }
    const err = await ask().catch((e) => e);
    expect(err.status).toBe(429);
    for (const w of c.workers) w.engine.faults.failRate = 0;
  });

  it('honours an engine Retry-After before trying another worker, and per-model retry settings', async () => {
    c.workers[0].engine.faults.failRate = 1;
    c.workers[0].engine.faults.failStatus = 8;
    c.workers[0].engine.faults.retryAfterMs = 300;
    const firstUrl = c.workers[0].url;
    const t0 = Date.now();
    // round_robin: within three requests one lands on worker 0 first and waits its Retry-After.
    const durations = [];
    for (let i = 0; i < 3; i++) {
      const s = Date.now();
      await ask();
      durations.push(Date.now() - s);
    }
    expect(Math.max(...durations)).toBeGreaterThanOrEqual(290);
    expect(Date.now() - t0).toBeLessThan(5000);
    // No retries for this model: a request that lands on the failing worker now fails.
    const put = await fetch(`${c.gateway.url}/admin/policies/qwen3-mock`, { method: 'PUT', headers: { ...ADMIN, 'content-type': 'application/json' }, body: JSON.stringify({ policy: 'round_robin', max_retries: 0 }) });
    expect(put.status).toBe(200);
    // Let worker 0's circuit half-open so a request reaches it again.
    const results: unknown[] = [];
    for (let i = 0; i < 12 && !results.includes(429); i++) {
      await new Promise((r) => setTimeout(r, 150));
      results.push(await ask().then(() => 'ok', (e) => e.status));
    }
    expect(results).toContain(429);
    c.workers[0].engine.faults.failRate = 0;
    c.workers[0].engine.faults.retryAfterMs = 0;
    expect(firstUrl).toBeTruthy();
  });
});
