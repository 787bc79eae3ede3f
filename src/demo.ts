/**
 * `npm run demo`: the main job on embedded defaults. Starts, on loopback, mock workers and three
 * gateway nodes meshed together (SWIM + state sync, in-memory storage, no other service), prints
 * each node's URL, a ready-to-paste curl and the live mesh page, and stops everything on Ctrl-C.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { startMockWorker, type MockWorker } from '@drover/mock-worker';
import { loadConfig } from './config/load-config';
import { startGateway, type RunningGateway } from './gateway';

const HELP = `usage: npm run demo -- [--nodes 3] [--workers 4] [--model qwen3-mock]
                     [--base-port N | --port 8080 --mesh-port 7946 --worker-port 50051]
Starts mock workers and a mesh of gateway nodes on 127.0.0.1 and prints each node's URL, a
ready-to-paste curl and the live dashboard URL. Ctrl-C (or SIGTERM) stops everything.

  --nodes N          gateway nodes, meshed together (default 3, at most 9)
  --workers N        mock workers (default 4)
  --model NAME       model the mock workers serve (default qwen3-mock)
  --port N           node i serves HTTP on N + i (default 8080)
  --mesh-port N      node i's mesh (SWIM, UDP) is on N + 10·i, its state sync on the next port
                     (default 7946)
  --worker-port N    worker i listens on N + i; 0 picks free ports (default 50051)
  --no-auth          run without authentication (INSECURE, says so loudly); by default the demo
                     generates a client key and an admin key and prints them (or takes
                     DROVER_API_KEY / DROVER_ADMIN_KEY from the environment)
  --base-port N      one block of ports instead of the three above: HTTP on N + i, mesh on
                     N + 10 + 10·i (and the next port), workers on N + 100 + i. Explicit
                     --port/--mesh-port/--worker-port still win. Env: DROVER_DEMO_BASE_PORT
  -h, --help         this text
Env: DROVER_LOG_LEVEL (default warn).`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      nodes: { type: 'string', default: '3' },
      port: { type: 'string' },
      workers: { type: 'string', default: '4' },
      'worker-port': { type: 'string' },
      'mesh-port': { type: 'string' },
      'base-port': { type: 'string', default: process.env.DROVER_DEMO_BASE_PORT || undefined },
      model: { type: 'string', default: 'qwen3-mock' },
      'no-auth': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const int = (name: keyof typeof values, min: number, max: number, fallback?: number): number => {
    const n = values[name] === undefined && fallback !== undefined ? fallback : Number(values[name]);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer from ${min} to ${max}`);
    return n;
  };
  const nodeCount = int('nodes', 1, 9);
  const workerCount = int('workers', 1, 64);
  const basePort = values['base-port'] === undefined ? undefined : int('base-port', 1024, 65_535 - 200);
  const port = int('port', 1, 65000, basePort ?? 8080);
  const workerPort = int('worker-port', 0, 65000, basePort === undefined ? 50051 : basePort + 100);
  const meshPort = int('mesh-port', 1, 65000, basePort === undefined ? 7946 : basePort + 10);
  const workers: MockWorker[] = [];
  for (let i = 0; i < workerCount; i++) workers.push(await startMockWorker({ port: workerPort === 0 ? 0 : workerPort + i, model: values.model }));
  // Auth is on like any node's: fresh random keys unless the environment brings its own.
  const auth = !values['no-auth'];
  const apiKey = process.env.DROVER_API_KEY || randomBytes(24).toString('base64url');
  const adminKey = process.env.DROVER_ADMIN_KEY || randomBytes(24).toString('base64url');
  const meshKey = randomBytes(32).toString('base64');
  const seeds = Array.from({ length: nodeCount }, (_, i) => `127.0.0.1:${meshPort + 10 * i}`).join(',');
  const gateways: RunningGateway[] = [];
  for (let i = 0; i < nodeCount; i++) {
    const config = loadConfig([
      '--port', String(port + i),
      '--node-name', `node-${i}`,
      '--worker-urls', workers.map((w) => w.url).join(','),
      '--mesh', '--mesh-port', String(meshPort + 10 * i), '--mesh-seeds', seeds,
      '--mesh-key', meshKey, '--mesh-timings', 'local',
      ...(auth ? ['--api-key', apiKey, '--admin-key', adminKey] : ['--no-auth']),
      '--log-level', process.env.DROVER_LOG_LEVEL ?? 'warn',
    ]);
    gateways.push(await startGateway(config));
  }
  const first = gateways[0].url;
  const bearer = auth ? ` -H 'authorization: Bearer ${apiKey}'` : '';
  const adminBearer = auth ? ` -H 'authorization: Bearer ${adminKey}'` : '';
  process.stdout.write(
    [
      '',
      `Drover demo: ${nodeCount} meshed gateway nodes, ${workerCount} mock workers (${values.model})`,
      ...gateways.map((g, i) => `  node-${i}    ${g.url}`),
      ...workers.map((w, i) => `  worker-${i}  ${w.url}`),
      '',
      ...(auth
        ? [`  client API key  ${apiKey}`, `  admin key       ${adminKey}`, '']
        : ['  INSECURE: --no-auth: every route is open to anyone who reaches these ports', '']),
      `Dashboard (live mesh page): ${first}/dashboard${auth ? '  (user: admin, password: the admin key)' : ''}`,
      '',
      'Try (any node answers; follow-up turns find their cached prefix from any node):',
      `  curl -s ${first}/v1/chat/completions -H 'content-type: application/json'${bearer} \\`,
      `    -d '{"model":"${values.model}","messages":[{"role":"user","content":"Hello!"}],"max_tokens":32}'`,
      `  curl -s ${first}/mesh/status${adminBearer}`,
      '',
      'Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) process.exit(1);
    stopping = true;
    await Promise.all(gateways.map((g) => g.shutdown(2000)));
    await Promise.all(workers.map((w) => w.close()));
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

main().catch((err) => {
  process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
