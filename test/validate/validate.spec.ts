import { startMockWorker } from '@drover/mock-worker';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../src/gateway';
import { PROMPTS } from '../../validate/checks';
import { TEST_API_KEY } from '../support/auth';
import { testConfig } from '../support/config';

type MockWorker = Awaited<ReturnType<typeof startMockWorker>>;

const CLI = join(__dirname, '../../dist/validate/cli.js');

/** Runs the compiled CLI (what `npm run validate` runs) and returns its exit code and output. */
function validate(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** The row of one check in the table: its result word. */
function resultOf(table: string, check: string): string | undefined {
  return table.split('\n').find((l) => l.startsWith(`${check} `))?.slice(check.length).trim().split(/\s+/)[0];
}

describe('npm run validate: the onboarding check against mock workers', () => {
  const workers: MockWorker[] = [];
  let gateway: RunningGateway;

  beforeAll(async () => {
    // A model scripted to answer the check's prompts the way a well-configured model would.
    workers.push(
      await startMockWorker({
        port: 0,
        model: 'qwen3-scripted',
        replies: [
          { match: 'temperature_c', reply: 'It is sunny in Paris, 21C.' },
          { match: 'Call get_weather', reply: '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>' },
          { match: '17 + 25', reply: '<think>\n17 + 25 = 42.\n</think>\n\n42' },
          { match: 'say hello', reply: 'Hello there, this is a friendly validation answer with several words.' },
        ],
      }),
    );
    // The same model unscripted: it never calls a tool on its own.
    workers.push(await startMockWorker({ port: 0, model: 'qwen3-unscripted' }));
    gateway = await startGateway(testConfig({ workerUrls: workers.map((w) => w.url) }));
  }, 60_000);
  afterAll(async () => {
    await gateway?.shutdown(0);
    await Promise.all(workers.map((w) => w.close()));
  });

  it('passes every check on a model that behaves, and prints the table', async () => {
    const r = await validate(['--url', gateway.url, '--model', 'qwen3-scripted', '--api-key', TEST_API_KEY]);
    expect(r.stdout).toContain('all checks passed');
    for (const check of ['model listed', 'chat', 'usage', 'streaming', 'stop strings', 'tool-call round trip', 'reasoning split', 'structured output', 'logprobs']) {
      expect(resultOf(r.stdout, check), `${check}\n${r.stdout}`).toBe('PASS');
    }
    expect(r.code).toBe(0);
    expect(PROMPTS.tool).toContain('Call get_weather');
  });

  it('fails (exit code 1) when the model does not call the tool, naming the check', async () => {
    const r = await validate(['--url', gateway.url, '--model', 'qwen3-unscripted', '--api-key', TEST_API_KEY]);
    expect(r.code).toBe(1);
    expect(resultOf(r.stdout, 'tool-call round trip')).toBe('FAIL');
    expect(resultOf(r.stdout, 'streaming')).toBe('PASS');
    expect(r.stdout).toMatch(/\d+ of \d+ checks failed/);
  });

  it('fails every request check with a wrong key or an unknown model; bad usage exits 2', async () => {
    const wrongKey = await validate(['--url', gateway.url, '--model', 'qwen3-scripted', '--api-key', 'nope']);
    expect(wrongKey.code).toBe(1);
    expect(resultOf(wrongKey.stdout, 'chat')).toBe('FAIL');
    expect(wrongKey.stdout).toContain('HTTP 401');
    const unknown = await validate(['--url', gateway.url, '--model', 'no-such-model', '--api-key', TEST_API_KEY]);
    expect(resultOf(unknown.stdout, 'model listed')).toBe('FAIL');
    expect(unknown.code).toBe(1);
    expect((await validate(['--model', 'x'])).code).toBe(2);
  });
});
