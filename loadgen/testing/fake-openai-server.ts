import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the fake answers one request. Everything is optional; the default is a quick clean stream. */
export interface FakeBehavior {
  /** Answer with this HTTP status and a JSON error instead of a completion. */
  status?: number;
  /** Delay before the first content event (the TTFT the client should measure). */
  firstTokenDelayMs?: number;
  /** Delay between content events (the ITL the client should measure). */
  tokenIntervalMs?: number;
  /** Content events to send (default: the request's max_tokens, capped at 16). */
  tokens?: number;
  /** Prompt tokens to report (default: prompt characters / 4). */
  promptTokens?: number;
  /** Cached prompt tokens to report (default: longest prefix shared with an earlier prompt, / 4). */
  cachedTokens?: number;
  /** Break the stream after half the tokens: an error event, or a dropped connection. */
  midStream?: 'error-event' | 'abort';
  /** Never answer (the client must time out). */
  hang?: boolean;
  /** Drop the connection before answering. */
  destroy?: boolean;
  /** Leave usage out of the response. */
  noUsage?: boolean;
  /** Frame SSE lines with CRLF instead of LF. */
  crlf?: boolean;
}

export interface FakeRequest {
  index: number;
  path: string;
  headers: IncomingMessage['headers'];
  body: any;
  prompt: string;
}

export interface FakeServer {
  url: string;
  requests: FakeRequest[];
  /** Requests answered in full with 200, and everything else (errors, breaks, drops). */
  served: { ok: number; failed: number; outputTokens: number; promptTokens: number; cachedTokens: number };
  maxConcurrent: number;
  close(): Promise<void>;
}

/** The text of the i-th content event, so a test can recognise an answer in a later prompt. */
export const tokenText = (i: number) => `tok${i} `;

function promptOf(body: any): string {
  if (Array.isArray(body?.messages)) return body.messages.map((m: any) => `${m.role}:${m.content}\n`).join('');
  return typeof body?.prompt === 'string' ? body.prompt : '';
}

function commonPrefix(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

/**
 * A small OpenAI-compatible server for loadgen's tests: /v1/chat/completions and /v1/completions,
 * streaming (SSE with a final usage chunk when asked) or not, with per-request behaviour chosen by
 * `behave` so tests can inject delays, HTTP errors, broken streams, hangs and dropped connections.
 */
export async function startFakeServer(behave: (req: FakeRequest) => FakeBehavior = () => ({})): Promise<FakeServer> {
  const requests: FakeRequest[] = [];
  const served = { ok: 0, failed: 0, outputTokens: 0, promptTokens: 0, cachedTokens: 0 };
  const seenPrompts: string[] = [];
  let concurrent = 0;
  const state = { maxConcurrent: 0 };

  const handle = (req: IncomingMessage, res: ServerResponse, raw: string) => {
    let body: any;
    try {
      body = JSON.parse(raw);
    } catch {
      body = undefined;
    }
    const prompt = promptOf(body);
    const fr: FakeRequest = { index: requests.length, path: req.url ?? '', headers: req.headers, body, prompt };
    requests.push(fr);
    const b = behave(fr);
    const cachedChars = Math.max(0, ...seenPrompts.map((p) => commonPrefix(p, prompt)));
    seenPrompts.push(prompt);
    const promptTokens = b.promptTokens ?? Math.ceil(prompt.length / 4);
    const cachedTokens = Math.min(promptTokens, b.cachedTokens ?? Math.floor(cachedChars / 4));
    const usage = { prompt_tokens: promptTokens, completion_tokens: 0, total_tokens: 0, prompt_tokens_details: { cached_tokens: cachedTokens } };
    const isChat = fr.path.startsWith('/v1/chat/completions');
    if (!isChat && !fr.path.startsWith('/v1/completions')) b.status ??= 404;
    if (body === undefined) b.status ??= 400;

    const timers = new Set<NodeJS.Timeout>();
    const later = (ms: number, fn: () => void) => {
      const t = setTimeout(() => {
        timers.delete(t);
        fn();
      }, ms);
      timers.add(t);
    };
    let counted = false;
    const count = (ok: boolean, tokens = 0) => {
      if (counted) return;
      counted = true;
      if (!ok) return void served.failed++;
      served.ok++;
      served.outputTokens += tokens;
      served.promptTokens += promptTokens;
      served.cachedTokens += cachedTokens;
    };
    res.on('close', () => {
      for (const t of timers) clearTimeout(t);
      concurrent--;
      count(false);
    });
    concurrent++;
    state.maxConcurrent = Math.max(state.maxConcurrent, concurrent);

    if (b.destroy) return req.socket.destroy();
    if (b.hang) return;
    if (b.status && b.status !== 200) {
      res.writeHead(b.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `injected ${b.status}`, type: 'fake' } }));
      return count(false);
    }
    const tokens = b.tokens ?? Math.min(16, Number(body.max_tokens) || 16);
    const first = b.firstTokenDelayMs ?? 0;
    const gap = b.tokenIntervalMs ?? 0;
    const id = `fake-${fr.index}`;
    const choiceFor = (text: string, finish: string | null) => (isChat ? { index: 0, delta: { content: text }, finish_reason: finish } : { index: 0, text, finish_reason: finish });
    const withUsage = { ...usage, completion_tokens: tokens, total_tokens: promptTokens + tokens };

    if (!body.stream) {
      later(first + gap * Math.max(0, tokens - 1), () => {
        const text = Array.from({ length: tokens }, (_, i) => tokenText(i)).join('');
        const choice = isChat ? { index: 0, message: { role: 'assistant', content: text }, finish_reason: 'length' } : { index: 0, text, finish_reason: 'length' };
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id, object: isChat ? 'chat.completion' : 'text_completion', model: body.model, choices: [choice], ...(b.noUsage ? {} : { usage: withUsage }) }));
        count(true, tokens);
      });
      return;
    }
    const eol = b.crlf ? '\r\n' : '\n';
    const event = (data: unknown) => res.write(`data: ${typeof data === 'string' ? data : JSON.stringify(data)}${eol}${eol}`);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.write(`: fake server${eol}${eol}`);
    const breakAt = b.midStream ? Math.floor(tokens / 2) : -1;
    const step = (i: number) => {
      if (i === breakAt) {
        if (b.midStream === 'abort') return req.socket.destroy();
        event({ error: { message: 'injected mid-stream error', type: 'fake' } });
        res.end();
        return count(false);
      }
      if (i === tokens) {
        event({ id, model: body.model, choices: [choiceFor('', 'length')] });
        if (body.stream_options?.include_usage && !b.noUsage) event({ id, model: body.model, choices: [], usage: withUsage });
        event('[DONE]');
        res.end();
        return count(true, tokens);
      }
      event({ id, model: body.model, choices: [choiceFor(tokenText(i), null)] });
      later(gap, () => step(i + 1));
    };
    later(first, () => step(0));
  };

  const server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (raw += d));
    req.on('end', () => handle(req, res, raw));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    served,
    get maxConcurrent() {
      return state.maxConcurrent;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
