/**
 * The floor of `bench proxy`: the leanest reasonable HTTP proxy, Fastify + undici, run as its own
 * process (`node dist/bench/lib/proxy-floor.js UPSTREAM_URL`). It takes POST /v1/chat/completions
 * as raw bytes (no JSON parse), forwards them over a keep-alive undici Pool and pipes the upstream's
 * answer back as a stream. Whatever Drover adds beyond this is the gateway's own work (validation,
 * routing, admission, metrics, logs). Prints `listening http://127.0.0.1:PORT` on stdout once ready.
 */
import Fastify from 'fastify';
import { Pool } from 'undici';

if (require.main === module) {
  const upstream = process.argv[2];
  if (!upstream) throw new Error('usage: proxy-floor.js UPSTREAM_URL');
  const pool = new Pool(upstream, { connections: 64, pipelining: 1, keepAliveTimeout: 60_000 });
  const app = Fastify({ logger: false, bodyLimit: 16 * 1024 * 1024 });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.post('/v1/chat/completions', async (req, reply) => {
    const res = await pool.request({
      method: 'POST',
      path: '/v1/chat/completions',
      headers: { 'content-type': 'application/json' },
      body: req.body as Buffer,
    });
    const type = res.headers['content-type'];
    return reply.status(res.statusCode).header('content-type', typeof type === 'string' ? type : 'application/json').send(res.body);
  });
  app.listen({ port: 0, host: '127.0.0.1' }).then((url) => process.stdout.write(`listening ${url}\n`));
  process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
}
