/**
 * `npm run demo`: the main job on embedded defaults. Starts mock workers and a gateway on
 * loopback, prints the URLs and a ready-to-paste curl, and stops everything on Ctrl-C.
 */
import { parseArgs } from 'node:util';
import { startMockWorker } from '@drover/mock-worker';
import { loadConfig } from './config/load-config';
import { startGateway } from './gateway';

const HELP = `usage: npm run demo -- [--port 8080] [--workers 4] [--worker-port 50051] [--model qwen3-mock]
Starts mock workers and a gateway on 127.0.0.1 and prints how to reach them. Ctrl-C stops all.`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '8080' },
      workers: { type: 'string', default: '4' },
      'worker-port': { type: 'string', default: '50051' },
      model: { type: 'string', default: 'qwen3-mock' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const count = Number(values.workers);
  const workerPort = Number(values['worker-port']);
  if (!Number.isInteger(count) || count < 1 || count > 64) throw new Error('--workers must be an integer from 1 to 64');
  const workers: Awaited<ReturnType<typeof startMockWorker>>[] = [];
  for (let i = 0; i < count; i++) {
    workers.push(await startMockWorker({ port: workerPort === 0 ? 0 : workerPort + i, model: values.model } as never));
  }
  const config = loadConfig(['--port', String(values.port), '--worker-urls', workers.map((w) => w.url).join(',')]);
  const gateway = await startGateway(config);
  const lines = [
    '',
    `Drover demo: ${count} mock workers (${values.model}) behind a gateway`,
    ...workers.map((w, i) => `  worker-${i}  ${w.url}`),
    `  gateway   ${gateway.url}`,
    '',
    'Try:',
    `  curl -s ${gateway.url}/v1/chat/completions -H 'content-type: application/json' \\`,
    `    -d '{"model":"${values.model}","messages":[{"role":"user","content":"Hello!"}],"max_tokens":32}'`,
    '',
    'Ctrl-C to stop.',
    '',
  ];
  process.stdout.write(lines.join('\n'));
  const stop = async (): Promise<void> => {
    await gateway.shutdown(2000);
    await Promise.all(workers.map((w) => w.close()));
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((err) => {
  process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
