import { startMockWorker } from '@drover/mock-worker';
import OpenAI from 'openai';
import { startGateway, type RunningGateway } from '../../src/gateway';
import type { GatewayConfig } from '../../src/config/options';
import { testConfig } from './config';

type MockWorker = Awaited<ReturnType<typeof startMockWorker>>;
type MockOptions = Parameters<typeof startMockWorker>[0];

export interface TestCluster {
  workers: MockWorker[];
  gateway: RunningGateway;
  client: OpenAI;
  close(): Promise<void>;
}

/** Starts N in-process mock workers and one gateway in front of them, plus an OpenAI SDK client. */
export async function startCluster(opts: { workers?: number; worker?: Partial<MockOptions>; gateway?: Partial<GatewayConfig> } = {}): Promise<TestCluster> {
  const workers: MockWorker[] = [];
  for (let i = 0; i < (opts.workers ?? 2); i++) {
    workers.push(await startMockWorker({ port: 0, model: 'qwen3-mock', ...(opts.worker ?? {}) } as MockOptions));
  }
  const gateway = await startGateway(testConfig({ workerUrls: workers.map((w) => w.url), ...(opts.gateway ?? {}) }));
  const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'test', maxRetries: 0, timeout: 30_000 });
  return {
    workers,
    gateway,
    client,
    async close() {
      await gateway.shutdown(0);
      await Promise.all(workers.map((w) => w.close()));
    },
  };
}

/** Polls until `check` holds (no fixed sleeps in tests). */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
