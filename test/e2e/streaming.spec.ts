import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, waitFor, type TestCluster } from '../support/cluster';
import { E2E_ENGINES } from '../support/engines';
import { WorkerRegistryService as WorkerRegistry } from '../../src/workers/worker-registry.service';

describe.each(E2E_ENGINES)('gateway: caching, stop strings and client disconnects (%s engine)', (engine) => {
  let c: TestCluster;
  let echo: TestCluster;
  beforeAll(async () => {
    c = await startCluster({ workers: 1, worker: { engine, decodeBaseMs: 2 } });
    echo = await startCluster({ workers: 1, worker: { engine, echo: true, decodeBaseMs: 0.5 } });
  });
  afterAll(async () => {
    await c?.close();
    await echo?.close();
  });

  it('reports cached_tokens for a repeated prefix', async () => {
    const system = 'You are a meticulous assistant who answers in detail. '.repeat(30);
    const ask = (q: string) => c.client.chat.completions.create({ model: 'qwen3-mock', messages: [{ role: 'system', content: system }, { role: 'user', content: q }], max_tokens: 3 });
    const first = await ask('first question');
    const second = await ask('second question');
    expect(first.usage?.prompt_tokens_details?.cached_tokens ?? 0).toBeLessThan(16);
    expect(second.usage?.prompt_tokens_details?.cached_tokens).toBeGreaterThan(first.usage!.prompt_tokens * 0.8);
  });

  it('hides a stop string that spans tokens (completions, echo worker)', async () => {
    const res = await echo.client.completions.create({ model: 'qwen3-mock', prompt: 'one two three four five', max_tokens: 50, stop: ['o thr'] });
    expect(res.choices[0].text).toBe('one tw');
    expect(res.choices[0].finish_reason).toBe('stop');
    const streamed = await echo.client.completions.create({ model: 'qwen3-mock', prompt: 'alpha beta gamma delta', max_tokens: 50, stop: ['a del'], stream: true });
    let text = '';
    for await (const chunk of streamed) text += chunk.choices[0]?.text ?? '';
    expect(text).toBe('alpha beta gamm');
  });

  it('completions accept token ids and arrays of prompts', async () => {
    const ids = await echo.client.completions.create({ model: 'qwen3-mock', prompt: [40, 1079, 264], max_tokens: 10 });
    expect(ids.choices[0].text.length).toBeGreaterThan(0);
    const many = await echo.client.completions.create({ model: 'qwen3-mock', prompt: ['a b c', 'x y z'], max_tokens: 10 });
    expect(many.choices.map((ch) => ch.text)).toEqual(['a b c', 'x y z']);
    expect(many.choices.map((ch) => ch.index)).toEqual([0, 1]);
  });

  it('aborts the worker request when the client disconnects mid-stream', async () => {
    const controller = new AbortController();
    const stream = await c.client.chat.completions.create(
      { model: 'qwen3-mock', messages: [{ role: 'user', content: 'a very long answer please' }], max_tokens: 5000, stream: true, ...({ ignore_eos: true } as object) },
      { signal: controller.signal },
    );
    let chunks = 0;
    try {
      for await (const _ of stream) {
        if (++chunks === 3) controller.abort();
      }
    } catch {
      // the SDK may end the iteration or throw an abort error; either way the client is gone
    }
    expect(chunks).toBeGreaterThanOrEqual(3);
    expect(chunks).toBeLessThan(100);
    const worker = c.workers[0];
    await waitFor(() => worker.engine.runningCount === 0 && worker.engine.waitingCount === 0, 5000, 'worker slot freed');
    await waitFor(() => c.gateway.app.get(WorkerRegistry).list().every((w) => w.inFlight === 0), 5000, 'gateway in-flight back to 0');
    await waitFor(() => worker.abortsReceived.length > 0, 5000, 'Abort RPC received');
  });
});
