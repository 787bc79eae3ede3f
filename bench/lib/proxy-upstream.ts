/**
 * The upstream of `bench proxy`: an OpenAI-compatible HTTP server that answers at once, run as its
 * own process (`node dist/bench/lib/proxy-upstream.js`). POST /v1/chat/completions gets a fixed
 * non-streaming chat completion (or, with `"stream": true`, the same answer as a few SSE events);
 * GET /health and GET /v1/models are there so Drover can register it as an http:// worker.
 * Prints `listening http://127.0.0.1:PORT` on stdout once ready.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export const UPSTREAM_MODEL = 'bench-upstream';

const COMPLETION = Buffer.from(
  JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    created: 1_700_000_000,
    model: UPSTREAM_MODEL,
    choices: [{ index: 0, message: { role: 'assistant', content: 'A short answer about latency: it adds up.' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 12, completion_tokens: 9, total_tokens: 21 },
  }),
);

const chunk = (delta: object, finish: string | null, usage?: object): string =>
  `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1_700_000_000, model: UPSTREAM_MODEL, choices: [{ index: 0, delta, finish_reason: finish }], ...(usage ? { usage } : {}) })}\n\n`;
const STREAM = Buffer.from(
  chunk({ role: 'assistant', content: '' }, null) +
    ['A short', ' answer', ' about', ' latency'].map((t) => chunk({ content: t }, null)).join('') +
    chunk({}, 'stop', { prompt_tokens: 12, completion_tokens: 4, total_tokens: 16 }) +
    'data: [DONE]\n\n',
);
const MODELS = Buffer.from(JSON.stringify({ object: 'list', data: [{ id: UPSTREAM_MODEL, object: 'model', owned_by: 'bench', max_model_len: 32768 }] }));

if (require.main === module) {
  const server = createServer((req, res) => {
    if (req.method === 'GET') {
      if (req.url === '/health') return void res.writeHead(200, { 'content-length': 0 }).end();
      if (req.url === '/v1/models') return void res.writeHead(200, { 'content-type': 'application/json', 'content-length': MODELS.length }).end(MODELS);
      return void res.writeHead(404, { 'content-length': 0 }).end();
    }
    // The body is read (a real engine reads it) but only looked at for "stream": true.
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      const stream = Buffer.concat(parts).includes('"stream":true');
      const body = stream ? STREAM : COMPLETION;
      res.writeHead(200, { 'content-type': stream ? 'text/event-stream' : 'application/json', 'content-length': body.length }).end(body);
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.stdout.write(`listening http://127.0.0.1:${(server.address() as AddressInfo).port}\n`));
  process.on('SIGTERM', () => process.exit(0));
}
