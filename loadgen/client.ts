import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Message } from './workloads';

export interface RequestSpec {
  url: string;
  api: 'chat' | 'completions';
  model: string;
  messages: Message[];
  stream: boolean;
  maxTokens: number;
  apiKey?: string;
  timeoutMs: number;
}

/** What one request measured. Times are ms from when the request was sent. */
export interface RequestResult {
  ok: boolean;
  error?: string;
  ttftMs?: number;
  itlMs: number[];
  e2eMs: number;
  outputTokens: number;
  promptTokens: number;
  cachedTokens: number;
  text: string;
}

const agents = new Map<string, HttpAgent>();

/** One keep-alive agent per origin, capped at the connection limit. */
export function agentFor(url: string, maxSockets: number): HttpAgent {
  const origin = new URL(url).origin;
  let a = agents.get(origin);
  if (!a) {
    a = origin.startsWith('https:') ? new HttpsAgent({ keepAlive: true, maxSockets }) : new HttpAgent({ keepAlive: true, maxSockets });
    agents.set(origin, a);
  }
  return a;
}

export function closeAgents(): void {
  for (const a of agents.values()) a.destroy();
  agents.clear();
}

/**
 * Sends one request and measures it: TTFT at the first content delta, inter-token latency between
 * content deltas, end-to-end at the end of the response. Errors are classified as http_<status>,
 * timeout, connection or stream_error.
 */
export function send(spec: RequestSpec, maxSockets: number): Promise<RequestResult> {
  const started = performance.now();
  const body =
    spec.api === 'chat'
      ? { model: spec.model, messages: spec.messages, max_tokens: spec.maxTokens, stream: spec.stream, ...(spec.stream ? { stream_options: { include_usage: true } } : {}) }
      : { model: spec.model, prompt: spec.messages.map((m) => m.content).join('\n'), max_tokens: spec.maxTokens, stream: spec.stream, ...(spec.stream ? { stream_options: { include_usage: true } } : {}) };
  const payload = JSON.stringify(body);
  const target = new URL(`${spec.url.replace(/\/$/, '')}/v1/${spec.api === 'chat' ? 'chat/completions' : 'completions'}`);
  const doRequest = target.protocol === 'https:' ? httpsRequest : httpRequest;
  const result: RequestResult = { ok: false, itlMs: [], e2eMs: 0, outputTokens: 0, promptTokens: 0, cachedTokens: 0, text: '' };
  return new Promise((resolve) => {
    let settled = false;
    const finish = (error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      result.e2eMs = performance.now() - started;
      result.ok = error === undefined;
      if (error) result.error = error;
      resolve(result);
    };
    const req = doRequest(
      target,
      {
        method: 'POST',
        agent: agentFor(spec.url, maxSockets),
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...(spec.apiKey ? { authorization: `Bearer ${spec.apiKey}` } : {}) },
      },
      (res) => (spec.stream ? readStream(res, result, started, finish) : readJson(res, result, started, finish)),
    );
    const timer = setTimeout(() => {
      req.destroy();
      finish('timeout');
    }, spec.timeoutMs);
    req.on('error', () => finish(settled ? undefined : 'connection'));
    req.end(payload);
  });
}

function usageFrom(result: RequestResult, usage: any): void {
  if (!usage) return;
  result.promptTokens = usage.prompt_tokens ?? 0;
  result.outputTokens = usage.completion_tokens ?? result.outputTokens;
  result.cachedTokens = usage.prompt_tokens_details?.cached_tokens ?? 0;
}

function readJson(res: IncomingMessage, result: RequestResult, started: number, finish: (e?: string) => void): void {
  let text = '';
  res.setEncoding('utf8');
  res.on('data', (d: string) => (text += d));
  res.on('error', () => finish('connection'));
  res.on('end', () => {
    if (res.statusCode !== 200) return finish(`http_${res.statusCode}`);
    try {
      const json = JSON.parse(text);
      const choice = json.choices?.[0];
      result.text = choice?.message?.content ?? choice?.text ?? '';
      result.ttftMs = performance.now() - started;
      usageFrom(result, json.usage);
      finish();
    } catch {
      finish('stream_error');
    }
  });
}

function readStream(res: IncomingMessage, result: RequestResult, started: number, finish: (e?: string) => void): void {
  if (res.statusCode !== 200) {
    res.resume();
    res.on('end', () => finish(`http_${res.statusCode}`));
    return;
  }
  let buffer = '';
  let last = 0;
  let done = false;
  let failed = false;
  let deltas = 0;
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    buffer += chunk;
    let sep: number;
    while ((sep = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, sep);
      buffer = buffer.slice(sep + 2);
      for (const line of event.split('\n')) {
        if (!line.startsWith('data:')) continue;
        const data = line.slice(5).trim();
        if (data === '[DONE]') {
          done = true;
          continue;
        }
        let json: any;
        try {
          json = JSON.parse(data);
        } catch {
          failed = true;
          continue;
        }
        if (json.error) failed = true;
        const choice = json.choices?.[0];
        const piece = choice?.delta?.content ?? choice?.text ?? '';
        if (piece) {
          const now = performance.now();
          if (result.ttftMs === undefined) result.ttftMs = now - started;
          else result.itlMs.push(now - last);
          last = now;
          deltas++;
          result.text += piece;
        }
        if (json.usage) usageFrom(result, json.usage);
      }
    }
  });
  res.on('error', () => finish('connection'));
  res.on('end', () => {
    if (!result.outputTokens) result.outputTokens = deltas;
    finish(failed || !done ? 'stream_error' : undefined);
  });
}
