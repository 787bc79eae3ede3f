/**
 * `npm run demo`: the main job on embedded defaults. Starts, on loopback, mock workers and three
 * gateway nodes meshed together (SWIM + state sync, in-memory storage, no other service), prints
 * each node's URL, a ready-to-paste curl and the live mesh page, and stops everything on Ctrl-C.
 */
import { parseArgs } from 'node:util';
import { startMockWorker, type MockWorker } from '@drover/mock-worker';
import { loadConfig } from './config/load-config';
import { startGateway, type RunningGateway } from './gateway';

const HELP = `usage: npm run demo -- [--nodes 3] [--port 8080] [--workers 4] [--worker-port 50051] [--mesh-port 7946] [--model qwen3-mock]
Starts mock workers and a mesh of gateway nodes on 127.0.0.1 (node i on --port + i, mesh on
--mesh-port + 10·i) and prints how to reach them. Ctrl-C stops everything.`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      nodes: { type: 'string', default: '3' },
      port: { type: 'string', default: '8080' },
      workers: { type: 'string', default: '4' },
      'worker-port': { type: 'string', default: '50051' },
      'mesh-port': { type: 'string', default: '7946' },
      model: { type: 'string', default: 'qwen3-mock' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const int = (name: keyof typeof values, min: number, max: number): number => {
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer from ${min} to ${max}`);
    return n;
  };
  const nodeCount = int('nodes', 1, 9);
  const workerCount = int('workers', 1, 64);
  const port = int('port', 1, 65000);
  const workerPort = int('worker-port', 0, 65000);
  const meshPort = int('mesh-port', 1, 65000);
  const workers: MockWorker[] = [];
  for (let i = 0; i < workerCount; i++) workers.push(await startMockWorker({ port: workerPort === 0 ? 0 : workerPort + i, model: values.model }));
  const seeds = Array.from({ length: nodeCount }, (_, i) => `127.0.0.1:${meshPort + 10 * i}`).join(',');
  const gateways: RunningGateway[] = [];
  for (let i = 0; i < nodeCount; i++) {
    const config = loadConfig([
      '--port', String(port + i),
      '--node-name', `node-${i}`,
      '--worker-urls', workers.map((w) => w.url).join(','),
      '--mesh', '--mesh-port', String(meshPort + 10 * i), '--mesh-seeds', seeds,
      '--mesh-key', 'drover-demo-cluster-key', '--mesh-timings', 'local',
      '--log-level', process.env.DROVER_LOG_LEVEL ?? 'warn',
    ]);
    gateways.push(await startGateway(config));
  }
  const first = gateways[0].url;
  process.stdout.write(
    [
      '',
      `Drover demo: ${nodeCount} meshed gateway nodes, ${workerCount} mock workers (${values.model})`,
      ...gateways.map((g, i) => `  node-${i}    ${g.url}`),
      ...workers.map((w, i) => `  worker-${i}  ${w.url}`),
      '',
      `Live mesh page: ${first}/dashboard`,
      '',
      'Try (any node answers; follow-up turns find their cached prefix from any node):',
      `  curl -s ${first}/v1/chat/completions -H 'content-type: application/json' \\`,
      `    -d '{"model":"${values.model}","messages":[{"role":"user","content":"Hello!"}],"max_tokens":32}'`,
      `  curl -s ${first}/mesh/status`,
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
