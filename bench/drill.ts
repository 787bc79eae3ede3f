/**
 * `npm run bench -- drill --json`: the resilience drill. Real processes on loopback: 3 mock
 * workers and a gateway, under closed-loop load from loadgen (16 streaming chats in flight).
 *  1. worker-1 is SIGKILLed at 3 s and restarted on the same port at 7 s;
 *  2. then the gateway gets SIGTERM under load (shutdown delay 0.5 s, grace 10 s).
 * Reports requests sent, ok, failed by kind, and retried (gateway metric) for each phase.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { buildReport } from '../loadgen/report';
import { runLoad } from '../loadgen/runner';
import { BENCH_AUTH, BENCH_AUTH_ARGS } from './lib/bench-keys';

export const description = 'resilience drill: worker killed and restarted under load; gateway SIGTERM drain under load';

/** dist/ (this file runs as dist/bench/drill.js). */
const DIST = join(__dirname, '..');

function startProcess(args: string[], ready: RegExp): Promise<{ child: ChildProcess; match: RegExpMatchArray }> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`process did not start: ${args.join(' ')}`)), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = out.match(ready);
      if (m) {
        clearTimeout(timer);
        resolve({ child, match: m });
      }
    });
    child.on('exit', (code) => reject(new Error(`${args[0]} exited ${code}: ${err.slice(-500)}`)));
  });
}

const worker = (port: number) => startProcess([join(DIST, 'libs/mock-worker/src/cli.js'), '--port', String(port), '--decode-base-ms', '8', '--eos-probability', '0'], /(grpc:\/\/\S+)\nready/);
const gateway = (urls: string[]) =>
  startProcess([join(DIST, 'src/main.js'), '--port', '0', '--worker-urls', urls.join(','), '--shutdown-delay-ms', '500', '--shutdown-grace-ms', '10000', '--health-check-interval-ms', '500', '--retry-backoff-ms', '10', ...BENCH_AUTH_ARGS], /"url":"(http:\/\/[^"]+)"[^\n]*gateway listening/);

async function retries(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`, { headers: BENCH_AUTH })).text();
  return [...text.matchAll(/drover_worker_retries_total\{[^}]*\} (\d+)/g)].reduce((a, m) => a + Number(m[1]), 0);
}

const stop = (c: ChildProcess, signal: NodeJS.Signals = 'SIGKILL') => new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : (c.once('exit', () => r()), c.kill(signal))));

export async function run(): Promise<Record<string, unknown>> {
  const base = 42000 + Math.floor(Math.random() * 2000) * 3;
  const workers = [await worker(base), await worker(base + 1), await worker(base + 2)];
  const urls = workers.map((w) => w.match[1]);
  const gw = await gateway(urls);
  const gwUrl = gw.match[1];
  const children = [...workers.map((w) => w.child), gw.child];
  try {
    await new Promise((r) => setTimeout(r, 600));
    // Phase 1: kill and restart a worker under load.
    let restarted: ChildProcess | undefined;
    const kill = setTimeout(() => void stop(workers[1].child, 'SIGKILL'), 3000);
    const restart = setTimeout(() => void worker(base + 1).then((w) => (restarted = w.child), (e) => process.stderr.write(`[drill] restart failed: ${e}\n`)), 7000);
    const load1 = await runLoad({ urls: [gwUrl], model: 'qwen3-mock', api: 'chat', stream: true, maxTokens: 32, seed: 1, timeoutMs: 20_000, concurrency: 16, durationMs: 12_000, workload: 'multiturn', spread: 'request', maxConnections: 64 });
    clearTimeout(kill);
    clearTimeout(restart);
    if (restarted) children.push(restarted);
    const r1 = buildReport(load1.samples, load1.elapsedMs, null, {});
    const retried1 = await retries(gwUrl);
    // Phase 2: SIGTERM the gateway under load; requests sent before the signal must all finish.
    let sigtermAt = Number.POSITIVE_INFINITY;
    const t0 = performance.now();
    const term = setTimeout(() => {
      sigtermAt = performance.now() - t0;
      gw.child.kill('SIGTERM');
    }, 1500);
    const load2 = await runLoad({ urls: [gwUrl], model: 'qwen3-mock', api: 'chat', stream: true, maxTokens: 64, seed: 2, timeoutMs: 20_000, concurrency: 16, durationMs: 4000, workload: 'multiturn', spread: 'request', maxConnections: 64 });
    clearTimeout(term);
    const before = load2.samples.filter((s) => s.sentMs < sigtermAt);
    const after = load2.samples.filter((s) => s.sentMs >= sigtermAt);
    const exitCode = await new Promise<number | null>((r) => (gw.child.exitCode !== null ? r(gw.child.exitCode) : gw.child.once('exit', (c) => r(c))));
    return {
      worker_kill_restart: { sent: r1.requests.sent, ok: r1.requests.ok, failed: r1.requests.failed, errors: r1.errors, retried: retried1, ttft_p99_ms: r1.ttft_ms.p99 },
      sigterm_drain: {
        sent_before_sigterm: before.length,
        ok_before_sigterm: before.filter((s) => s.ok).length,
        failed_before_sigterm: before.filter((s) => !s.ok).length,
        sent_after_sigterm: after.length,
        refused_after_sigterm: after.filter((s) => !s.ok).length,
        errors_after: buildReport(after, load2.elapsedMs, null, {}).errors,
        gateway_exit_code: exitCode,
      },
    };
  } finally {
    await Promise.all(children.map((c) => stop(c)));
  }
}
