import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMockWorker } from '@drover/mock-worker';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayProcess, type GatewayProcess } from '../support/process';
import { ADMIN } from '../support/auth';

type MockWorker = Awaited<ReturnType<typeof startMockWorker>>;

describe('compiled gateway started with --config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'drover-e2e-cfg-'));
  let worker: MockWorker;
  const gateways: GatewayProcess[] = [];
  beforeAll(async () => {
    worker = await startMockWorker({ port: 0, model: 'qwen3-mock', decodeBaseMs: 1 });
  });
  afterEach(async () => {
    await Promise.all(gateways.splice(0).map((g) => g.stop('SIGKILL')));
  });
  afterAll(async () => worker?.close());

  const models = async (g: GatewayProcess) => ((await (await fetch(`${g.url}/v1/models`, { headers: ADMIN })).json()) as { data: { id: string }[] }).data.map((m) => m.id);
  const chat = (g: GatewayProcess, model: string) =>
    fetch(`${g.url}/v1/chat/completions`, { method: 'POST', headers: { ...ADMIN, 'content-type': 'application/json' }, body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }) });

  it('a YAML file names the workers and settings; the node serves them', async () => {
    const path = join(dir, 'drover.yaml');
    writeFileSync(path, `workerUrls:\n  - ${worker.url}\nmodelName: from-yaml\npolicy: round_robin\ncacheThreshold: 0.3\n`);
    const g = await startGatewayProcess(['--config', path]);
    gateways.push(g);
    expect(await models(g)).toEqual(['from-yaml']);
    expect((await chat(g, 'from-yaml')).status).toBe(200);
    const routing = (await (await fetch(`${g.url}/admin/routing`, { headers: ADMIN })).json()) as { policy: string; thresholds: { cache_threshold: number } };
    expect(routing.policy).toBe('round_robin');
    expect(routing.thresholds.cache_threshold).toBe(0.3);
  });

  it('a JSON file works the same, and a flag overrides the file', async () => {
    const path = join(dir, 'drover.json');
    writeFileSync(path, JSON.stringify({ workerUrls: [worker.url], modelName: 'from-json' }));
    const g = await startGatewayProcess(['--config', path, '--model-name', 'from-flag']);
    gateways.push(g);
    expect(await models(g)).toEqual(['from-flag']);
  });

  it('a bad file stops the node before it listens (exit 2), listing every problem', async () => {
    const path = join(dir, 'bad.yaml');
    writeFileSync(path, `workerUrls: [${worker.url}]\nport: eighty\npolicy: fastest\nworker-urls: x\n`);
    // --port 0 from the helper overrides the file's bad port: the other problems remain.
    const err = (await startGatewayProcess(['--config', path]).catch((e: Error) => e)) as Error;
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toContain('gateway exited with 2');
    expect(err.message).toContain('invalid configuration:');
    expect(err.message).toContain(`config file ${path}: key 'policy': 'fastest' is not one of`);
    expect(err.message).toContain(`config file ${path}: unknown key 'worker-urls' (did you mean 'workerUrls'?)`);
    expect(err.message).not.toContain("key 'port'");
  });
});
