import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An in-process OpenAI-compatible HTTP server standing in for a vLLM/SGLang HTTP API in the
 * gateway's e2e tests: GET /health, GET /v1/models (with vLLM's max_model_len), POST
 * /v1/chat/completions, /v1/completions (streaming or not) and /v1/embeddings. It records every
 * request it receives (and whether the connection closed before the answer was complete), and
 * its behaviour can be changed between requests: error statuses with Retry-After, delays, hangs,
 * streams that break midway, a failing or missing /health.
 */
export interface UpstreamBehavior {
  /** /health status (404 = the server has no /health; the gateway then asks /v1/models). */
  healthStatus: number;
  /** Answer every POST with this status and an OpenAI error body instead of a completion. */
  status?: number;
  retryAfter?: string;
  /** Delay before the response starts. */
  delayMs: number;
  /** Never answer POSTs (the connection stays open). */
  hang: boolean;
  /** Content pieces per answer, and the pause between streamed pieces. */
  pieces: number;
  pieceIntervalMs: number;
  /** Destroy the socket after this many streamed pieces. */
  breakAfterPieces?: number;
  /**
   * Write every SSE event in two halves, 5 ms apart, so the proxy receives chunks that end
   * mid-event; with breakAfterPieces the connection then drops after half an event.
   */
  splitEvents?: boolean;
  /** Stop sending after this many streamed pieces, keeping the connection open (a stalled engine). */
  stallAfterPieces?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: any;
  /** The body's bytes as received (UTF-8). */
  raw: string;
  /** The answer was fully written. */
  finished: boolean;
  /** The connection closed before the answer was complete (the gateway aborted it). */
  closedEarly: boolean;
}

export interface FakeUpstream {
  name: string;
  url: string;
  model: string;
  behavior: UpstreamBehavior;
  requests: RecordedRequest[];
  /** POSTs received (inference requests, not health or model probes). */
  posts(): RecordedRequest[];
  /** The text of the i-th piece of this server's answers (answers are these pieces in order). */
  answer(pieces?: number): string;
  close(): Promise<void>;
}

const DEFAULTS: UpstreamBehavior = { healthStatus: 200, delayMs: 0, hang: false, pieces: 4, pieceIntervalMs: 0 };

export async function startFakeUpstream(opts: { name: string; model?: string; maxModelLen?: number; behavior?: Partial<UpstreamBehavior> }): Promise<FakeUpstream> {
  const model = opts.model ?? 'fake-model';
  const requests: RecordedRequest[] = [];
  const open = new Set<ServerResponse>();
  const piece = (i: number): string => (i === 0 ? `Answer from ${opts.name}` : ` piece${i}`);
  const fake: FakeUpstream = {
    name: opts.name,
    url: '',
    model,
    behavior: { ...DEFAULTS, ...(opts.behavior ?? {}) },
    requests,
    posts: () => requests.filter((r) => r.method === 'POST'),
    answer: (n = fake.behavior.pieces) => Array.from({ length: n }, (_, i) => piece(i)).join(''),
    close: async () => {
      for (const res of open) res.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, rec: RecordedRequest): Promise<void> => {
    const b = fake.behavior;
    if (req.method === 'GET' && rec.path === '/health') {
      if (b.healthStatus === 404) return json(res, 404, { detail: 'Not Found' });
      return void res.writeHead(b.healthStatus).end();
    }
    if (req.method === 'GET' && rec.path === '/v1/models') {
      return json(res, 200, { object: 'list', data: [{ id: model, object: 'model', owned_by: 'fake', ...(opts.maxModelLen ? { max_model_len: opts.maxModelLen } : {}) }] });
    }
    if (req.method !== 'POST') return json(res, 404, { detail: 'Not Found' });
    if (b.hang) return;
    if (b.delayMs > 0) await new Promise((r) => setTimeout(r, b.delayMs));
    const body = rec.body;
    if (body === undefined) return json(res, 400, { error: { message: 'bad json', type: 'invalid_request_error' } });
    // A test can ask for a status per request; otherwise the server-wide one applies.
    const status = typeof body.fake_status === 'number' ? body.fake_status : b.status;
    if (status !== undefined) {
      return json(res, status, { error: { message: `${opts.name} says ${status}`, type: status >= 500 ? 'server_error' : 'invalid_request_error', code: status } }, b.retryAfter ? { 'retry-after': b.retryAfter } : {});
    }
    if (body.model !== model) return json(res, 404, { error: { message: `The model \`${body.model}\` does not exist.`, type: 'NotFoundError', code: 404 } });
    const usage = { prompt_tokens: 11, completion_tokens: b.pieces, total_tokens: 11 + b.pieces, prompt_tokens_details: { cached_tokens: 7 } };
    const created = 1_700_000_000;
    if (rec.path === '/v1/embeddings') {
      const inputs = Array.isArray(body.input) ? body.input : [body.input];
      return json(res, 200, { object: 'list', model, data: inputs.map((_: unknown, index: number) => ({ object: 'embedding', index, embedding: [0.25, 0.5, 0.75] })), usage: { prompt_tokens: 3, total_tokens: 3 } });
    }
    const chat = rec.path === '/v1/chat/completions';
    if (!chat && rec.path !== '/v1/completions') return json(res, 404, { detail: 'Not Found' });
    const id = chat ? `chatcmpl-${opts.name}` : `cmpl-${opts.name}`;
    if (!body.stream) {
      const choice = chat ? { index: 0, message: { role: 'assistant', content: fake.answer() }, finish_reason: 'stop' } : { index: 0, text: fake.answer(), finish_reason: 'stop' };
      return json(res, 200, { id, object: chat ? 'chat.completion' : 'text_completion', created, model, choices: [choice], usage });
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const halves = async (event: string): Promise<void> => {
      res.write(event.slice(0, event.length >> 1));
      await new Promise((r) => setTimeout(r, 5));
      if (!res.destroyed) res.write(event.slice(event.length >> 1));
    };
    const send = async (chunk: unknown): Promise<void> => {
      const event = `data: ${JSON.stringify(chunk)}\n\n`;
      if (b.splitEvents) await halves(event);
      else res.write(event);
    };
    const object = chat ? 'chat.completion.chunk' : 'text_completion';
    const choice = (text: string, finish: string | null, first = false) =>
      chat ? { index: 0, delta: first ? { role: 'assistant', content: text } : { content: text }, finish_reason: finish } : { index: 0, text, finish_reason: finish };
    for (let i = 0; i < b.pieces; i++) {
      if (res.destroyed) return;
      if (b.breakAfterPieces !== undefined && i === b.breakAfterPieces) {
        if (b.splitEvents) res.write(`data: {"id":"${id}","choices":[{"index":0,"delta":{"content":"half`);
        return void setTimeout(() => res.destroy(), 5);
      }
      if (b.stallAfterPieces !== undefined && i === b.stallAfterPieces) return;
      if (i > 0 && b.pieceIntervalMs > 0) await new Promise((r) => setTimeout(r, b.pieceIntervalMs));
      await send({ id, object, created, model, choices: [choice(piece(i), null, i === 0)] });
    }
    await send({ id, object, created, model, choices: [choice('', 'stop')] });
    if (body.stream_options?.include_usage) await send({ id, object, created, model, choices: [], usage });
    res.end('data: [DONE]\n\n');
  };

  const server = createServer((req, res) => {
    const rec: RecordedRequest = { method: req.method ?? 'GET', path: (req.url ?? '/').split('?')[0], headers: req.headers, body: undefined, raw: '', finished: false, closedEarly: false };
    requests.push(rec);
    open.add(res);
    res.on('finish', () => (rec.finished = true));
    res.on('close', () => {
      open.delete(res);
      if (!rec.finished) rec.closedEarly = true;
    });
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (raw += c));
    req.on('end', () => {
      rec.raw = raw;
      try {
        rec.body = raw ? JSON.parse(raw) : {};
      } catch {
        rec.body = undefined;
      }
      handle(req, res, rec).catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}
