import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../src/gateway';
import { UPSTREAM_LIMITS } from '../../src/workers/bounded-body';
import { testConfig } from '../support/config';
import { ADMIN, CLIENT } from '../support/auth';
import { waitFor } from '../support/cluster';

type Mode = 'endless-answer' | 'endless-event' | 'endless-error' | 'ok';

/**
 * Every upstream body is read with a bound (issue 16): an HTTP worker whose answer, streamed event
 * or error body never ends, or whose model list never ends, gets its connection closed once the
 * bound is passed, and the client an error, instead of a gateway buffering without limit.
 */
describe('bounded reads of upstream bodies', () => {
  let server: Server;
  let other: Server;
  let url: string;
  let otherUrl: string;
  let gw: RunningGateway;
  const state = { mode: 'ok' as Mode, written: 0, closed: 0, modelsEndless: false };

  /** Writes `chunk` until the gateway closes the connection, counting the bytes. */
  const flood = (res: ServerResponse, chunk: Buffer): void => {
    const pump = (): void => {
      while (!res.destroyed) {
        state.written += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
    };
    res.on('close', () => state.closed++);
    pump();
  };

  beforeAll(async () => {
    const megabyte = Buffer.alloc(1024 * 1024, 'a');
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      if (req.url === '/health') return void res.end('ok');
      if (req.url?.endsWith('/v1/models')) {
        if (state.modelsEndless) {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.write('{"object":"list","data":[{"id":"endless","pad":"');
          return flood(res, megabyte);
        }
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data: [{ id: 'bounded-model', max_model_len: 4096 }] }));
      }
      req.resume();
      req.on('end', () => {
        state.written = 0;
        if (state.mode === 'endless-answer') {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.write('{"choices":[{"message":{"content":"');
          return flood(res, megabyte);
        }
        if (state.mode === 'endless-event') {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.write('data: {"choices":[{"delta":{"content":"hi"}}]}\n\ndata: {"choices":[{"delta":{"content":"');
          return flood(res, megabyte);
        }
        if (state.mode === 'endless-error') {
          res.writeHead(503, { 'content-type': 'application/json' });
          res.write('{"error":{"message":"');
          return flood(res, megabyte);
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 'x', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'fine' }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } }));
      });
    };
    // Two servers with the same behaviour: the second one is registered later, as another worker.
    [server, other] = [createServer(handler), createServer(handler)];
    await Promise.all([server, other].map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', r))));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
    gw = await startGateway(testConfig({ workerUrls: [url], maxRetries: 0 }));
    await waitFor(async () => ((await (await fetch(`${gw.url}/v1/models`, { headers: CLIENT })).json()) as { data: unknown[] }).data.length === 1, 10_000, 'model listed');
  });
  afterAll(async () => {
    await gw?.shutdown(0);
    for (const s of [server, other]) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  });

  const chat = (stream: boolean) =>
    fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { ...CLIENT, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'bounded-model', messages: [{ role: 'user', content: 'hi' }], stream }) });

  it('a non-streaming answer that never ends: the connection is closed past the bound and the client gets a 5xx error', async () => {
    state.mode = 'endless-answer';
    const closedBefore = state.closed;
    const res = await chat(false);
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBeTruthy();
    await waitFor(() => state.closed > closedBefore, 5000, 'upstream connection closed');
    expect(state.written).toBeLessThan(UPSTREAM_LIMITS.answerBytes + 64 * 1024 * 1024);
  });

  it('a streamed event that never ends: the stream ends with an error event and the upstream is closed', async () => {
    state.mode = 'endless-event';
    const closedBefore = state.closed;
    const res = await chat(true);
    const text = await res.text();
    expect(text).toContain('"content":"hi"');
    expect(text).toMatch(/"error":\{.*\}\n\ndata: \[DONE\]\n\n$/s);
    await waitFor(() => state.closed > closedBefore, 5000, 'upstream connection closed');
    expect(state.written).toBeLessThan(UPSTREAM_LIMITS.eventBytes + 64 * 1024 * 1024);
  });

  it('an error body that never ends: its first bytes are kept, the rest is not read', async () => {
    state.mode = 'endless-error';
    const closedBefore = state.closed;
    const res = await chat(false);
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBeTruthy();
    await waitFor(() => state.closed > closedBefore, 5000, 'upstream connection closed');
    expect(state.written).toBeLessThan(UPSTREAM_LIMITS.errorBytes + 64 * 1024 * 1024);
    state.mode = 'ok';
    expect((await chat(false)).status).toBe(200);
  });

  it('a model list that never ends: the worker never becomes ready and the list is not buffered', async () => {
    state.modelsEndless = true;
    const closedBefore = state.closed;
    const res = await fetch(`${gw.url}/workers`, { method: 'POST', headers: { ...ADMIN, 'content-type': 'application/json' }, body: JSON.stringify({ url: otherUrl }) });
    expect(res.status).toBe(201); // registered; it connects in the background
    // Closed on the bound, well before the 5 s connect timeout would have ended the read.
    await waitFor(() => state.closed > closedBefore, 3000, 'upstream connection closed');
    expect(state.written).toBeLessThan(UPSTREAM_LIMITS.metadataBytes + 64 * 1024 * 1024);
    const workers = ((await (await fetch(`${gw.url}/workers`, { headers: ADMIN })).json()) as { data: { url: string; health: string }[] }).data;
    expect(workers.find((w) => w.url === otherUrl)?.health).not.toBe('ready');
    state.modelsEndless = false;
  });
});
