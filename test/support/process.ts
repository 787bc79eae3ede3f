import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { TEST_ADMIN_KEY, TEST_API_KEY, TEST_WORKER_EGRESS } from './auth';

const ROOT = join(__dirname, '../..');

export interface GatewayProcess {
  url: string;
  child: ChildProcess;
  /** Every JSON log line the process printed so far. */
  logs: Record<string, unknown>[];
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts the compiled gateway (dist/src/main.js) as a child process and waits for its URL. It gets
 * the test keys and the loopback worker allowance through the environment (DROVER_API_KEY,
 * DROVER_ADMIN_KEY, DROVER_EGRESS_ALLOW_WORKERS) unless `env` says otherwise.
 */
export function startGatewayProcess(args: string[], env: Record<string, string> = {}): Promise<GatewayProcess> {
  const child = spawn(process.execPath, [join(ROOT, 'dist/src/main.js'), '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, DROVER_API_KEY: TEST_API_KEY, DROVER_ADMIN_KEY: TEST_ADMIN_KEY, DROVER_EGRESS_ALLOW_WORKERS: TEST_WORKER_EGRESS.join(','), ...env },
  });
  const logs: Record<string, unknown>[] = [];
  let buffer = '';
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start: ${stderr}`)), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      buffer += d.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        try {
          const entry = JSON.parse(line) as Record<string, unknown>;
          logs.push(entry);
          if (entry.msg === 'gateway listening') {
            clearTimeout(timer);
            resolve({
              url: String(entry.url),
              child,
              logs,
              stderr: () => stderr,
              stop: (signal = 'SIGTERM') =>
                new Promise((res) => {
                  if (child.exitCode !== null || child.signalCode !== null) return res(child.exitCode);
                  child.once('exit', (code) => res(code));
                  child.kill(signal);
                }),
            });
          }
        } catch {
          // not a JSON line
        }
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with ${code}: ${stderr}`));
    });
  });
}

export interface WorkerProcess {
  url: string;
  child: ChildProcess;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts the compiled mock worker CLI as a child process (so a test can SIGKILL it). */
export function startWorkerProcess(args: string[] = []): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [join(ROOT, 'dist/libs/mock-worker/src/cli.js'), '--port', '0', '--count', '1', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start: ${err}`)), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = out.match(/^(grpc:\/\/\S+)\nready/m);
      if (m) {
        clearTimeout(timer);
        resolve({
          url: m[1],
          child,
          kill: (signal = 'SIGKILL') =>
            new Promise((res) => {
              if (child.exitCode !== null || child.signalCode !== null) return res();
              child.once('exit', () => res());
              child.kill(signal);
            }),
        });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited with ${code}: ${err}`));
    });
  });
}

export interface WorkerCliProcess {
  /** The grpc:// URLs the CLI printed, in order. */
  urls: string[];
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or the signal name) once the process is gone. */
  exited: Promise<number | string>;
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

/**
 * Runs the compiled mock worker CLI with exactly `args` and waits for its "ready" line. Rejects
 * with the CLI's stderr if it exits first (bad flags, a port in use).
 */
export function startWorkerCli(args: string[], timeoutMs = 30_000): Promise<WorkerCliProcess> {
  const child = spawn(process.execPath, [join(ROOT, 'dist/libs/mock-worker/src/cli.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | string>((res) => child.once('exit', (code, signal) => res(code ?? signal ?? -1)));
  const stop = (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`worker CLI not ready after ${timeoutMs} ms: ${err}`));
    }, timeoutMs);
    child.stdout!.on('data', () => {
      if (!/^ready$/m.test(out)) return;
      clearTimeout(timer);
      resolve({ urls: out.split('\n').filter((l) => l.startsWith('grpc://')), child, stdout: () => out, stderr: () => err, exited, stop });
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new WorkerCliExit(code, out, err));
    });
  });
}

/** The worker CLI exited before it was ready. */
export class WorkerCliExit extends Error {
  constructor(readonly code: number | string, readonly stdout: string, readonly stderr: string) {
    super(`worker CLI exited with ${code}: ${stderr}`);
  }
}

/** A port free for both TCP and UDP on loopback right now (SWIM uses both on one number). */
export async function freeMeshPort(): Promise<number> {
  const { createServer } = await import('node:net');
  const { createSocket } = await import('node:dgram');
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    const ok = await new Promise<boolean>((resolve) => {
      const tcp = createServer();
      tcp.once('error', () => resolve(false));
      tcp.listen(port, '127.0.0.1', () => {
        const udp = createSocket('udp4');
        udp.once('error', () => tcp.close(() => resolve(false)));
        udp.bind(port, '127.0.0.1', () => udp.close(() => tcp.close(() => resolve(true))));
      });
    });
    // The sync port (port + 1) must be free too.
    if (ok) {
      const next = await new Promise<boolean>((resolve) => {
        const tcp = createServer();
        tcp.once('error', () => resolve(false));
        tcp.listen(port + 1, '127.0.0.1', () => tcp.close(() => resolve(true)));
      });
      if (next) return port;
    }
  }
  throw new Error('no free port pair found');
}
