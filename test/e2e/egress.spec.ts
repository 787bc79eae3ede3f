import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { startMockWorker, type MockWorker } from '@drover/mock-worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN } from '../support/auth';
import { waitFor } from '../support/cluster';
import { startGatewayProcess, type GatewayProcess } from '../support/process';

// The "internal service" listens on 127.0.0.1 (refused: loopback); the servers the operator allows
// listen on 127.0.0.2 (--egress-allow-* 127.0.0.2), and some of them redirect to the internal one.
const SECRET = 'internal-secret-7d2f';

function listen(server: Server, host: string): Promise<string> {
  return new Promise((resolve) => server.listen(0, host, () => resolve(`http://${host}:${(server.address() as AddressInfo).port}`)));
}

describe('egress policy: image URLs and HTTP workers reach only allowed addresses (gateway process)', () => {
  let worker: MockWorker;
  let gw: GatewayProcess;
  let internal: Server;
  let internalUrl: string;
  let internalHits = 0;
  let allowed: Server;
  let allowedUrl: string;
  let redirectingWorker: Server;
  let redirectingWorkerUrl: string;
  let png: Buffer;

  beforeAll(async () => {
    png = await sharp({ create: { width: 56, height: 56, channels: 3, background: { r: 200, g: 10, b: 10 } } }).png().toBuffer();
    internal = createServer((_req, res) => {
      internalHits++;
      res.writeHead(200, { 'content-type': 'image/png' }).end(SECRET);
    });
    internalUrl = await listen(internal, '127.0.0.1');
    allowed = createServer((req, res) => {
      if (req.url === '/red.png') return void res.writeHead(200, { 'content-type': 'image/png' }).end(png);
      if (req.url === '/hop') return void res.writeHead(302, { location: '/red.png' }).end();
      if (req.url === '/to-internal') return void res.writeHead(302, { location: `${internalUrl}/secret.png` }).end();
      if (req.url === '/to-metadata') return void res.writeHead(301, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
      if (req.url === '/to-localhost') return void res.writeHead(307, { location: `http://localhost:${new URL(internalUrl).port}/x` }).end();
      if (req.url === '/loop') return void res.writeHead(302, { location: '/loop' }).end();
      res.writeHead(404).end();
    });
    allowedUrl = await listen(allowed, '127.0.0.2');
    // An OpenAI-compatible worker at an allowed address that answers completions with a redirect.
    redirectingWorker = createServer((req, res) => {
      if (req.url === '/health') return void res.writeHead(200).end('ok');
      if (req.url === '/v1/models') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data: [{ id: 'redirecting-model' }] }));
      req.resume();
      res.writeHead(307, { location: `${internalUrl}/v1/chat/completions` }).end();
    });
    redirectingWorkerUrl = await listen(redirectingWorker, '127.0.0.2');
    worker = await startMockWorker({ port: 0, model: 'qwen3-mock', vision: true } as never);
    gw = await startGatewayProcess(['--worker-urls', worker.url], { DROVER_EGRESS_ALLOW_IMAGES: '127.0.0.2', DROVER_EGRESS_ALLOW_WORKERS: '127.0.0.2' });
    await waitFor(async () => (await fetch(`${gw.url}/readiness`)).status === 200, 15_000, 'gateway ready');
  });
  afterAll(async () => {
    await gw?.stop();
    await worker?.close();
    for (const s of [internal, allowed, redirectingWorker]) await new Promise((r) => s?.close(r));
  });

  const chatWithImage = async (url: string) => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...ADMIN, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'qwen3-mock', max_tokens: 2, messages: [{ role: 'user', content: [{ type: 'text', text: 'what is it?' }, { type: 'image_url', image_url: { url } }] }] }),
    });
    return { status: res.status, text: await res.text() };
  };

  it('fetches images from allowed addresses, following redirects that stay allowed', async () => {
    expect((await chatWithImage(`${allowedUrl}/red.png`)).status).toBe(200);
    expect((await chatWithImage(`${allowedUrl}/hop`)).status).toBe(200);
  });

  it('refuses image URLs at loopback, private, link-local and metadata addresses with a generic 400', async () => {
    const port = new URL(internalUrl).port;
    const refused = [
      `${internalUrl}/secret.png`,
      `http://localhost:${port}/secret.png`,
      `http://[::1]:${port}/secret.png`,
      `http://2130706433:${port}/secret.png`, // 127.0.0.1 written as one number
      `http://[::ffff:127.0.0.1]:${port}/secret.png`,
      'http://169.254.169.254/latest/meta-data/',
      'http://10.1.2.3:6379/',
      'http://100.64.0.1/',
    ];
    for (const url of refused) {
      const r = await chatWithImage(url);
      expect(r.status, url).toBe(400);
      const body = JSON.parse(r.text) as { error: { message: string; type: string } };
      expect(body.error.type).toBe('invalid_request_error');
      expect(body.error.message).toMatch(/could not be fetched/);
      // Nothing about the network leaks: no socket errors, no addresses or ports.
      expect(r.text).not.toMatch(/ECONN|EHOSTUNREACH|ENETUNREACH|10\.1\.2\.3|6379|127\.0\.0\.1|169\.254/);
    }
    expect(internalHits).toBe(0);
  });

  it('re-checks every redirect hop: an allowed URL redirecting to an internal address is refused', async () => {
    for (const path of ['/to-internal', '/to-metadata', '/to-localhost']) {
      const r = await chatWithImage(`${allowedUrl}${path}`);
      expect(r.status, path).toBe(400);
      expect(r.text).not.toContain(SECRET);
      expect(r.text).not.toMatch(/127\.0\.0\.1|169\.254|localhost/);
    }
    const loop = await chatWithImage(`${allowedUrl}/loop`);
    expect(loop.status).toBe(400);
    expect(loop.text).toMatch(/redirects more than 3 times/);
    expect(internalHits).toBe(0);
  });

  it('refuses HTTP worker URLs at refused addresses with a 400 at registration', async () => {
    const port = new URL(internalUrl).port;
    for (const url of [`http://127.0.0.1:${port}`, `http://localhost:${port}`, 'http://169.254.169.254', 'http://192.168.1.1:8000', 'http://[fd00:ec2::254]']) {
      const res = await fetch(`${gw.url}/workers`, { method: 'POST', headers: { ...ADMIN, 'content-type': 'application/json' }, body: JSON.stringify({ url }) });
      expect(res.status, url).toBe(400);
      const body = (await res.json()) as { error: { message: string; param: string } };
      expect(body.error.param).toBe('url');
      expect(body.error.message).toMatch(/not allowed by the egress policy/);
    }
    expect(internalHits).toBe(0);
  });

  it('never follows a worker redirect: the client gets an error, the internal target is never reached', async () => {
    const add = await fetch(`${gw.url}/workers`, { method: 'POST', headers: { ...ADMIN, 'content-type': 'application/json' }, body: JSON.stringify({ url: redirectingWorkerUrl }) });
    expect(add.status).toBe(201);
    const id = ((await add.json()) as { id: string }).id;
    await waitFor(async () => ((await (await fetch(`${gw.url}/workers/${id}`, { headers: ADMIN })).json()) as { health: string }).health === 'ready', 10_000, 'redirecting worker ready');
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...ADMIN, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'redirecting-model', max_tokens: 2, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect(res.headers.get('location')).toBeNull();
    const text = await res.text();
    expect(text).not.toContain(SECRET);
    expect(text).not.toMatch(/127\.0\.0\.1/);
    expect(internalHits).toBe(0);
  });
});
