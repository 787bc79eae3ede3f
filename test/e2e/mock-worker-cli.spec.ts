import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WorkerClient, WorkerRpcError, type GenerateEvent } from '@drover/worker-proto';
import { startWorkerCli, WorkerCliExit, type WorkerCliProcess } from '../support/process';
import { waitFor } from '../support/cluster';

const CLI = join(__dirname, '../../dist/libs/mock-worker/src/cli.js');

/** Runs the CLI to its exit (for flags that make it exit at once). */
function runToExit(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [CLI, ...args], { timeout: 30_000 }, (_err, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }));
  });
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** Starts the CLI on `count` consecutive free ports (retrying elsewhere if another process takes one meanwhile). */
async function startOnConsecutivePorts(count: number, extra: string[] = []): Promise<{ cli: WorkerCliProcess; base: number }> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const base = 30_000 + Math.floor(Math.random() * 25_000);
    const free = await Promise.all(Array.from({ length: count }, (_, i) => portFree(base + i)));
    if (!free.every(Boolean)) continue;
    try {
      return { cli: await startWorkerCli(['--port', String(base), '--count', String(count), ...extra]), base };
    } catch (err) {
      if (err instanceof WorkerCliExit && err.code === 1) continue; // lost a port to a race: try another block
      throw err;
    }
  }
  throw new Error(`no block of ${count} free ports found`);
}

async function collect(it: AsyncIterable<GenerateEvent>): Promise<GenerateEvent[]> {
  const out: GenerateEvent[] = [];
  for await (const e of it) out.push(e);
  return out;
}

const small = (id: string, maxNewTokens = 3) => ({ requestId: id, inputIds: [101, 102, 103], sampling: { maxNewTokens, ignoreEos: true }, stream: true });

describe('mock worker CLI (compiled, as `npm run worker` runs it)', () => {
  const running: WorkerCliProcess[] = [];
  const clients: WorkerClient[] = [];
  afterEach(async () => {
    clients.splice(0).forEach((c) => c.close());
    await Promise.all(running.splice(0).map((p) => p.stop('SIGKILL')));
  });
  const connect = async (url: string, opts?: Parameters<typeof WorkerClient.connect>[1]) => {
    const c = await WorkerClient.connect(url, opts);
    clients.push(c);
    return c;
  };

  it('--count 4 starts four workers on consecutive ports, prints their URLs then ready, and stops on SIGTERM', async () => {
    const { cli, base } = await startOnConsecutivePorts(4, ['--model', 'cli-model']);
    running.push(cli);
    expect(cli.urls).toEqual([0, 1, 2, 3].map((i) => `grpc://127.0.0.1:${base + i}`));
    expect(cli.stdout().trim().split('\n')).toEqual([...cli.urls, 'ready']);
    for (const [i, url] of cli.urls.entries()) {
      const c = await connect(url);
      expect(c.protocol).toBe('sglang');
      expect((await c.getModelInfo()).servedModelName).toBe('cli-model');
      const events = await collect(c.generate(small(`w${i}`)));
      expect(events.at(-1)).toMatchObject({ type: 'complete', completionTokens: 3 });
    }
    clients.splice(0).forEach((c) => c.close());
    expect(await cli.stop('SIGTERM')).toBe(0);
    expect(cli.stderr()).toContain('SIGTERM: stopping 4 worker(s)');
    const released = await Promise.all(cli.urls.map((_, i) => portFree(base + i)));
    expect(released).toEqual([true, true, true, true]);
  });

  it('--port 0 --count 3 picks three distinct free ports', async () => {
    const cli = await startWorkerCli(['--port', '0', '--count', '3']);
    running.push(cli);
    expect(cli.urls).toHaveLength(3);
    expect(new Set(cli.urls).size).toBe(3);
    for (const url of cli.urls) expect((await (await connect(url)).healthCheck()).healthy).toBe(true);
  });

  it('rejects bad flags with exit 2 and says why', async () => {
    const cases: [string[], RegExp][] = [
      [['--count', 'x'], /--count must be/],
      [['--count', '0'], /--count must be/],
      [['--count', '1.5'], /--count must be/],
      [['--port=-1'], /--port must be/],
      [['--port', '65534', '--count', '4'], /beyond 65535/],
      [['--protocol', 'trtllm'], /--protocol must be sglang or vllm/],
      [['--stall-after-tokens', '2.5'], /--stall-after-tokens must be/],
      [['--no-such-flag'], /Unknown option/],
    ];
    for (const [args, message] of cases) {
      const r = await runToExit(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stdout, args.join(' ')).not.toContain('ready');
    }
    const help = await runToExit(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--stall-after-tokens N');
  });

  it('--stall-after-tokens 2: a stream gets two tokens, then nothing until its deadline, holding the slot', async () => {
    const cli = await startWorkerCli(['--port', '0', '--stall-after-tokens', '2', '--decode-base-ms', '1']);
    running.push(cli);
    const c = await connect(cli.urls[0]);
    const seen: GenerateEvent[] = [];
    const started = Date.now();
    const err = await (async () => {
      for await (const e of c.generate(small('stalls', 50), { deadlineMs: 3000 })) {
        seen.push(e);
        // While stalled, the request still occupies a running slot.
        if (seen.length === 2) await waitFor(async () => (await c.getLoads()).numRunningReqs === 1, 2000, 'stalled request running');
      }
    })().catch((e) => e);
    expect(err).toBeInstanceOf(WorkerRpcError);
    expect(err.grpcName).toBe('DEADLINE_EXCEEDED');
    expect(Date.now() - started).toBeGreaterThanOrEqual(2900);
    expect(seen.map((e) => e.type)).toEqual(['chunk', 'chunk']);
    // The abandoned stream is aborted on the worker: its slot is freed.
    await waitFor(async () => (await c.getLoads()).numRunningReqs === 0, 5000, 'slot freed after abort');
  });

  it('--crash-after-requests 2: two requests are served, the third kills the process (exit 137)', async () => {
    const cli = await startWorkerCli(['--port', '0', '--crash-after-requests', '2']);
    running.push(cli);
    const c = await connect(cli.urls[0]);
    for (const id of ['one', 'two']) expect((await collect(c.generate(small(id)))).at(-1)).toMatchObject({ type: 'complete' });
    const err = await collect(c.generate(small('three'))).catch((e) => e);
    expect(err).toBeInstanceOf(WorkerRpcError);
    expect(await cli.exited).toBe(137);
    expect(cli.stderr()).toContain('crashing after 2 requests (fault injection)');
    const after = await c.healthCheck({ deadlineMs: 2000 }).catch((e) => e);
    expect(after).toBeInstanceOf(WorkerRpcError);
    expect(after.grpcName).toBe('UNAVAILABLE');
  });

  it('--unhealthy: the worker answers HealthCheck with healthy=false (so it is reachable but not ready)', async () => {
    const cli = await startWorkerCli(['--port', '0', '--unhealthy']);
    running.push(cli);
    const c = await connect(cli.urls[0]);
    expect(await c.healthCheck()).toEqual({ healthy: false, message: 'unhealthy (fault injection)' });
    const healthy = await startWorkerCli(['--port', '0']);
    running.push(healthy);
    expect(await (await connect(healthy.urls[0])).healthCheck()).toEqual({ healthy: true, message: 'ok' });
  });

  it('--fail-rate 1 --fail-status 8: every Generate fails with RESOURCE_EXHAUSTED', async () => {
    const cli = await startWorkerCli(['--port', '0', '--fail-rate', '1', '--fail-status', '8']);
    running.push(cli);
    const c = await connect(cli.urls[0]);
    for (const id of ['f1', 'f2']) {
      const err = await collect(c.generate(small(id))).catch((e) => e);
      expect(err).toBeInstanceOf(WorkerRpcError);
      expect(err.grpcName).toBe('RESOURCE_EXHAUSTED');
    }
  });

  it('--role prefill / --role decode: a disaggregated pair over the CLI (SGLang bootstrap room), KV at --kv-transfer-gbps', async () => {
    const prefill = await startWorkerCli(['--port', '0', '--role', 'prefill', '--kv-transfer-gbps', '10', '--kv-transfer-latency-ms', '2', '--decode-base-ms', '1']);
    const decode = await startWorkerCli(['--port', '0', '--role', 'decode', '--decode-base-ms', '1']);
    running.push(prefill, decode);
    const [p, d] = [await connect(prefill.urls[0]), await connect(decode.urls[0])];
    const info = (await p.getServerInfo()) as { server_args: { fields: Record<string, { numberValue?: number; stringValue?: string }> } };
    expect(info.server_args.fields.disaggregation_mode.stringValue).toBe('prefill');
    const port = info.server_args.fields.disaggregation_bootstrap_port.numberValue!;
    expect(prefill.stderr()).toContain(`KV bootstrap port ${port}`);
    const disaggregation = { bootstrapHost: '127.0.0.1', bootstrapPort: port, bootstrapRoom: 77 };
    const req = { ...small('cli-pd', 5), disaggregation };
    const [, decoded] = await Promise.all([collect(p.generate(req)), collect(d.generate(req))]);
    expect(decoded.flatMap((e) => (e.type === 'chunk' ? e.tokenIds : []))).toHaveLength(5);
    // Without the bootstrap parameters a decode engine cannot serve.
    const err = await collect(d.generate(small('no-pd'))).catch((e: unknown) => e);
    expect((err as WorkerRpcError).grpcName).toBe('INVALID_ARGUMENT');
    for (const bad of [['--role', 'both'], ['--role', 'decode', '--bootstrap-port', '9000'], ['--kv-transfer-fault', 'sometimes'], ['--kv-transfer-gbps', '0']]) {
      const r = await runToExit(['--port', '0', ...bad]);
      expect(r.code, bad.join(' ')).toBe(2);
    }
  });

  it('--protocol vllm serves the vLLM engine contract', async () => {
    const cli = await startWorkerCli(['--port', '0', '--protocol', 'vllm']);
    running.push(cli);
    const c = await connect(cli.urls[0]);
    expect(c.protocol).toBe('vllm');
    expect((await collect(c.generate(small('v')))).at(-1)).toMatchObject({ type: 'complete', completionTokens: 3 });
  });
});
