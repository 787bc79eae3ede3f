import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, waitFor, type TestCluster } from '../support/cluster';
import { CLIENT } from '../support/auth';
import { postHead, rawExchange } from '../support/raw-http';

/**
 * The client port is bounded (issue 16): headers, the whole request and idle keep-alive
 * connections have deadlines, bodies a size limit, JSON a nesting limit; every refusal is an
 * error in the API's JSON shape and the node stays healthy. Each slow-client case talks over a
 * raw socket and waits for the server to close it.
 */
describe('client port: timeouts and limits', () => {
  // Long enough that a legitimate request on a busy test machine is not cut, short enough to wait on.
  const HEADER_MS = 1000;
  const BODY_MS = 2000;
  const IDLE_MS = 1000;
  let c: TestCluster;
  let host: string;

  beforeAll(async () => {
    c = await startCluster({ workers: 1, gateway: { headerTimeoutMs: HEADER_MS, bodyTimeoutMs: BODY_MS, keepAliveTimeoutMs: IDLE_MS, maxRequestBytes: 64 * 1024 } });
    host = new URL(c.gateway.url).host;
    // Warm up (the model's tokenizer loads on this process's event loop), so deadlines below are
    // measured on a node that is not busy starting.
    await waitFor(async () => (await c.client.chat.completions.create({ model: 'qwen3-mock', messages: [{ role: 'user', content: 'warm up' }], max_tokens: 1 }).catch(() => undefined)) !== undefined, 30_000, 'a first generation');
  });
  afterAll(async () => c?.close());

  const chat = JSON.stringify({ model: 'qwen3-mock', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 });
  const healthy = async () => expect((await fetch(`${c.gateway.url}/health`)).status).toBe(200);
  const openAiError = (json: unknown, type: string) => expect((json as { error: { type: string; message: string } }).error).toMatchObject({ type, message: expect.any(String) });

  it('cuts off a body that never finishes with a 408 in OpenAI shape, within the body timeout', async () => {
    const r = await rawExchange(c.gateway.url, (s) => {
      s.write(postHead('/v1/chat/completions', host, { ...CLIENT, 'content-length': '1000' }));
      s.write(chat.slice(0, 20)); // and nothing more, ever
    });
    expect(r.status).toBe(408);
    openAiError(r.json, 'timeout_error');
    expect((r.json as { error: { code: string } }).error.code).toBe('request_timeout');
    expect(r.closedAfterMs).toBeGreaterThanOrEqual(BODY_MS - 50);
    expect(r.closedAfterMs).toBeLessThan(BODY_MS + 3000);
    await healthy();
  });

  it('cuts off a body trickling in a byte at a time (activity does not extend the deadline)', async () => {
    let timer: NodeJS.Timeout | undefined;
    const r = await rawExchange(c.gateway.url, (s) => {
      s.write(postHead('/v1/chat/completions', host, { ...CLIENT, 'content-length': '30000' }));
      timer = setInterval(() => s.writable && s.write(' '), 20);
      s.on('close', () => clearInterval(timer));
    });
    clearInterval(timer);
    expect(r.status).toBe(408);
    expect(r.closedAfterMs).toBeLessThan(BODY_MS + 3000);
    await healthy();
  });

  it('cuts off a chunked body that never ends', async () => {
    let timer: NodeJS.Timeout | undefined;
    const r = await rawExchange(c.gateway.url, (s) => {
      s.write(postHead('/v1/chat/completions', host, { ...CLIENT, 'transfer-encoding': 'chunked' }));
      timer = setInterval(() => s.writable && s.write('1\r\n \r\n'), 20);
      s.on('close', () => clearInterval(timer));
    });
    clearInterval(timer);
    expect(r.status).toBe(408);
    openAiError(r.json, 'timeout_error');
    await healthy();
  });

  it('answers a slow body on /v1/messages in Anthropic shape', async () => {
    const r = await rawExchange(c.gateway.url, (s) => {
      s.write(postHead('/v1/messages', host, { ...CLIENT, 'content-length': '500' }));
      s.write('{"model":');
    });
    expect(r.status).toBe(408);
    expect(r.json).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: expect.stringContaining('not received in time') } });
  });

  it('cuts off headers that never finish (slowloris) within the header timeout', async () => {
    let timer: NodeJS.Timeout | undefined;
    const r = await rawExchange(c.gateway.url, (s) => {
      s.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: ${host}\r\n`);
      timer = setInterval(() => s.writable && s.write(`x-slow-${Math.random().toString(36).slice(2)}: 1\r\n`), 20);
      s.on('close', () => clearInterval(timer));
    });
    clearInterval(timer);
    expect(r.status).toBe(408);
    openAiError(r.json, 'timeout_error');
    expect(r.closedAfterMs).toBeLessThan(HEADER_MS + 3000);
    await healthy();
  });

  it('closes an idle keep-alive connection after the keep-alive timeout', async () => {
    const r = await rawExchange(c.gateway.url, (s) => s.write(`GET /health HTTP/1.1\r\nhost: ${host}\r\n\r\n`));
    expect(r.status).toBe(200);
    expect(r.closedAfterMs).toBeGreaterThanOrEqual(IDLE_MS - 50);
    expect(r.closedAfterMs).toBeLessThan(IDLE_MS + 3000);
  });

  it('closes the connection after a stream when the client asked to (connection: close)', async () => {
    const body = JSON.stringify({ model: 'qwen3-mock', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2, stream: true });
    const r = await rawExchange(c.gateway.url, (s) => s.write(postHead('/v1/chat/completions', host, { ...CLIENT, connection: 'close', 'content-length': String(body.length) }) + body));
    expect(r.status).toBe(200);
    expect(r.text).toContain('data: [DONE]');
    expect(r.closedAfterMs).toBeLessThan(IDLE_MS);
  });

  it('does not cut a request whose body arrived, however long its generation takes', async () => {
    const started = Date.now();
    const res = await c.client.chat.completions.create({ model: 'qwen3-mock', messages: [{ role: 'user', content: 'long one' }], max_tokens: 600, ignore_eos: true } as never);
    expect(Date.now() - started).toBeGreaterThan(BODY_MS);
    expect(res.choices[0].finish_reason).toBe('length');
  });

  it('refuses a body over --max-request-bytes with 413 (declared or streamed), in each API shape', async () => {
    const big = JSON.stringify({ model: 'qwen3-mock', messages: [{ role: 'user', content: 'x'.repeat(70 * 1024) }], max_tokens: 2 });
    const declared = await fetch(`${c.gateway.url}/v1/chat/completions`, { method: 'POST', headers: { ...CLIENT, 'content-type': 'application/json' }, body: big });
    expect(declared.status).toBe(413);
    expect(((await declared.json()) as { error: { code: string } }).error.code).toBe('request_too_large');
    const anthropic = await fetch(`${c.gateway.url}/v1/messages`, { method: 'POST', headers: { ...CLIENT, 'content-type': 'application/json' }, body: big });
    expect(anthropic.status).toBe(413);
    expect(await anthropic.json()).toMatchObject({ type: 'error', error: { type: 'request_too_large' } });
    // Chunked: no length announced, refused once the limit is passed.
    const r = await rawExchange(c.gateway.url, (s) => {
      s.write(postHead('/v1/chat/completions', host, { ...CLIENT, 'transfer-encoding': 'chunked', connection: 'close' }));
      const piece = 'x'.repeat(16 * 1024);
      for (let i = 0; i < 6; i++) s.write(`${piece.length.toString(16)}\r\n${piece}\r\n`);
      s.write('0\r\n\r\n');
    });
    expect(r.status).toBe(413);
    await healthy();
  });

  it('refuses headers over the size limit with 431 and JSON', async () => {
    const r = await rawExchange(c.gateway.url, (s) => s.write(`GET /v1/models HTTP/1.1\r\nhost: ${host}\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`));
    expect(r.status).toBe(431);
    openAiError(r.json, 'invalid_request_error');
    // On /v1/messages in Anthropic's shape, though no request object exists yet.
    const anthropic = await rawExchange(c.gateway.url, (s) => s.write(`POST /v1/messages HTTP/1.1\r\nhost: ${host}\r\nx-api-key: ${'k'.repeat(20_000)}\r\n\r\n`));
    expect(anthropic.status).toBe(431);
    expect(anthropic.json).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    // A client still sending far more header bytes gets the answer too (no reset that would lose it).
    let timer: NodeJS.Timeout | undefined;
    const flood = await rawExchange(c.gateway.url, (s) => {
      s.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: ${host}\r\nauthorization: Bearer ${'x'.repeat(100_000)}\r\ncontent-length: 5000\r\n\r\n`);
      timer = setInterval(() => s.writable && s.write('{"model":"x"}'), 2);
      s.on('close', () => clearInterval(timer));
    });
    clearInterval(timer);
    expect(flood.status).toBe(431);
    openAiError(flood.json, 'invalid_request_error');
  });

  it('refuses JSON nested deeper than the limit with 400, and a URL that does not decode with 400, both as JSON', async () => {
    const deep = `{"model":"qwen3-mock","messages":[{"role":"user","content":"x"}],"tools":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    const res = await fetch(`${c.gateway.url}/v1/chat/completions`, { method: 'POST', headers: { ...CLIENT, 'content-type': 'application/json' }, body: deep });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/nested more than 64 levels/);
    const bad = await fetch(`${c.gateway.url}/v1/responses/%ff%fe`, { headers: CLIENT });
    expect(bad.status).toBe(400);
    openAiError(await bad.json(), 'invalid_request_error');
    await healthy();
  });

  it('lists the client-port settings in --help', async () => {
    const { helpText } = await import('../../src/config/load-config');
    for (const flag of ['--header-timeout-ms', '--body-timeout-ms', '--keep-alive-timeout-ms', '--max-request-bytes']) expect(helpText('drover')).toContain(flag);
  });
});
