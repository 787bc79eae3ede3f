// Real process faults under load (SIGKILL, SIGTERM drain): timing-sensitive, so part of the serial pass of `npm test`.
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../src/gateway';
import { testConfig } from '../support/config';
import { startGatewayProcess, startWorkerProcess, type GatewayProcess, type WorkerProcess } from '../support/process';
import { ADMIN, TEST_API_KEY } from '../support/auth';

describe('resilience under real process faults', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    while (cleanup.length) await cleanup.pop()!().catch(() => undefined);
  });

  it('a worker SIGKILLed under load: every request that had not streamed to the client succeeds', async () => {
    const workers: WorkerProcess[] = [];
    for (let i = 0; i < 3; i++) workers.push(await startWorkerProcess(['--decode-base-ms', '4', '--eos-probability', '0']));
    cleanup.push(...workers.map((w) => () => w.kill()));
    const gw: RunningGateway = await startGateway(testConfig({ workerUrls: workers.map((w) => w.url), policy: 'round_robin', retryBackoffMs: 5 }));
    cleanup.push(() => gw.shutdown(0));
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: TEST_API_KEY, maxRetries: 0 });
    // Non-streaming requests are buffered: the gateway may retry them even mid-generation.
    const requests = Array.from({ length: 30 }, (_, i) =>
      client.chat.completions.create({ model: 'qwen3-mock', messages: [{ role: 'user', content: `load ${i}` }], max_tokens: 40 }).then(
        () => 'ok',
        (e) => `error ${e.status}`,
      ),
    );
    // Kill only once worker 0 is serving some of them (on a loaded machine dispatch can lag).
    const victimUrl = workers[0].url;
    for (let i = 0; i < 200; i++) {
      const list = (await (await fetch(`${gw.url}/workers`, { headers: ADMIN })).json()) as { data: { url: string; in_flight: number }[] };
      if ((list.data.find((w) => w.url === victimUrl)?.in_flight ?? 0) > 0) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    await workers[0].kill('SIGKILL');
    const results = await Promise.all(requests);
    expect(results.filter((r) => r !== 'ok')).toEqual([]);
    const retries = await (await fetch(`${gw.url}/metrics`, { headers: ADMIN })).text();
    expect(retries).toMatch(/drover_worker_retries_total\{model="qwen3-mock"\} [1-9]/);
  });

  it('SIGTERM under load: in-flight requests finish, readiness turns 503, new requests are refused, exit 0', async () => {
    const worker = await startWorkerProcess(['--decode-base-ms', '15', '--eos-probability', '0']);
    cleanup.push(() => worker.kill());
    const gw: GatewayProcess = await startGatewayProcess(['--worker-urls', worker.url, '--shutdown-delay-ms', '300', '--shutdown-grace-ms', '10000']);
    cleanup.push(() => gw.stop('SIGKILL'));
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: TEST_API_KEY, maxRetries: 0 });
    await new Promise((r) => setTimeout(r, 300)); // first health check
    // SIGTERM only once every stream has its first chunk: on a loaded CI machine a fixed wait
    // lets some requests arrive after the signal, and those are (rightly) refused.
    let started = 0;
    let allStarted!: () => void;
    const streaming = new Promise<void>((r) => (allStarted = r));
    const inflight = Array.from({ length: 20 }, (_, i) =>
      (async () => {
        const stream = await client.chat.completions.create({ model: 'qwen3-mock', messages: [{ role: 'user', content: `drain ${i}` }], max_tokens: 80, stream: true });
        let finish: string | null = null;
        let first = true;
        for await (const chunk of stream) {
          if (first && ++started === 20) allStarted();
          first = false;
          finish = chunk.choices[0]?.finish_reason ?? finish;
        }
        return finish;
      })(),
    );
    await Promise.race([streaming, Promise.all(inflight)]);
    const exited = gw.stop('SIGTERM');
    await new Promise((r) => setTimeout(r, 50));
    expect((await fetch(`${gw.url}/readiness`, { headers: ADMIN })).status).toBe(503);
    await new Promise((r) => setTimeout(r, 350)); // past the shutdown delay: now closing
    const refused = await client.chat.completions.create({ model: 'qwen3-mock', messages: [{ role: 'user', content: 'late' }], max_tokens: 2 }).catch((e) => e);
    expect(refused.status).toBe(503);
    const results = await Promise.all(inflight);
    expect(results).toEqual(Array(20).fill('length'));
    expect(await exited).toBe(0);
  });
});
