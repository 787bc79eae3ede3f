import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { HttpPool } from './http-pool';
import { endpoint, requestBody, type Api } from './request-body';
import { SseParser } from './sse';
import type { Message } from './workloads';

export interface RequestSpec {
  url: string;
  api: Api;
  model: string;
  messages: Message[];
  stream: boolean;
  maxTokens: number;
  apiKey?: string;
  timeoutMs: number;
}

/**
 * Error kinds: `http_<status>` (non-200 answer), `timeout` (no complete answer within the
 * request timeout), `connection` (refused/reset before any response), `stream_error` (a 200
 * answer that broke off, carried an error event, or was malformed), `aborted` (still in flight
 * when the run's hard deadline ended it).
 */
export type ErrorKind = `http_${number}` | 'timeout' | 'connection' | 'stream_error' | 'aborted';

/** What one request measured. Times are ms from when the request was handed to the socket pool. */
export interface RequestResult {
  ok: boolean;
  error?: ErrorKind;
  ttftMs?: number;
  itlMs: number[];
  e2eMs: number;
  outputTokens: number;
  promptTokens: number;
  cachedTokens: number;
  text: string;
}

type Finish = (error?: ErrorKind) => void;

/**
 * Sends one request and measures it: TTFT when the first chunk carrying content arrives,
 * inter-token latency between content-bearing events, end-to-end when the answer is complete.
 */
export function send(spec: RequestSpec, pool: HttpPool, signal?: AbortSignal): Promise<RequestResult> {
  const started = performance.now();
  const target = endpoint(spec.url, spec.api);
  const payload = requestBody(spec.api, spec.model, spec.messages, spec.stream, spec.maxTokens);
  const result: RequestResult = { ok: false, itlMs: [], e2eMs: 0, outputTokens: 0, promptTokens: 0, cachedTokens: 0, text: '' };
  const doRequest = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    let settled = false;
    const finish: Finish = (error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      result.e2eMs = performance.now() - started;
      result.ok = error === undefined;
      if (error) result.error = error;
      resolve(result);
      // Keep the socket for the next request unless this one is in an unknown state.
      if (error && !error.startsWith('http_')) req.destroy();
    };
    let responded = false;
    const req = doRequest(target, {
      method: 'POST',
      agent: pool.agentFor(target),
      headers: {
        'content-type': 'application/json',
        accept: spec.stream ? 'text/event-stream' : 'application/json',
        'content-length': Buffer.byteLength(payload),
        ...(spec.apiKey ? { authorization: `Bearer ${spec.apiKey}` } : {}),
      },
    });
    req.on('response', (res) => {
      responded = true;
      if (res.statusCode !== 200) {
        res.resume();
        res.on('end', () => finish(`http_${res.statusCode ?? 0}`));
        res.on('error', () => finish(`http_${res.statusCode ?? 0}`));
        return;
      }
      // A 200 that ends early is a broken stream, not a connection failure.
      res.on('close', () => finish('stream_error'));
      const isSse = (res.headers['content-type'] ?? '').includes('text/event-stream');
      if (isSse) readStream(res, result, started, finish);
      else readJson(res, result, started, finish);
    });
    req.on('error', () => finish(responded ? 'stream_error' : 'connection'));
    const timer = setTimeout(() => finish('timeout'), spec.timeoutMs);
    const onAbort = () => finish('aborted');
    if (signal?.aborted) return finish('aborted');
    signal?.addEventListener('abort', onAbort);
    req.end(payload);
  });
}

function applyUsage(result: RequestResult, usage: any): void {
  if (!usage || typeof usage !== 'object') return;
  if (typeof usage.prompt_tokens === 'number') result.promptTokens = usage.prompt_tokens;
  if (typeof usage.completion_tokens === 'number') result.outputTokens = usage.completion_tokens;
  const cached = usage.prompt_tokens_details?.cached_tokens;
  if (typeof cached === 'number') result.cachedTokens = cached;
}

function contentOf(choice: any): string {
  if (!choice) return '';
  const delta = choice.delta;
  if (delta) return (typeof delta.content === 'string' ? delta.content : '') + (typeof delta.reasoning_content === 'string' ? delta.reasoning_content : '');
  return typeof choice.text === 'string' ? choice.text : '';
}

function readJson(res: IncomingMessage, result: RequestResult, started: number, finish: Finish): void {
  let body = '';
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    if (result.ttftMs === undefined) result.ttftMs = performance.now() - started;
    body += chunk;
  });
  res.on('end', () => {
    let json: any;
    try {
      json = JSON.parse(body);
    } catch {
      return finish('stream_error');
    }
    const choice = json?.choices?.[0];
    if (!choice) return finish('stream_error');
    result.text = choice.message?.content ?? choice.text ?? '';
    applyUsage(result, json.usage);
    finish();
  });
}

function readStream(res: IncomingMessage, result: RequestResult, started: number, finish: Finish): void {
  const parser = new SseParser();
  let lastContentAt = 0;
  let contentEvents = 0;
  let sawDone = false;
  let sawFinishReason = false;
  let broken = false;
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    // One timestamp per network chunk: events that arrive together arrived at the same time.
    const now = performance.now();
    for (const event of parser.push(chunk)) {
      if (event.data === '[DONE]') {
        sawDone = true;
        continue;
      }
      let json: any;
      try {
        json = JSON.parse(event.data);
      } catch {
        broken = true;
        continue;
      }
      if (event.event === 'error' || json?.error) broken = true;
      const choice = json?.choices?.[0];
      if (choice?.finish_reason) sawFinishReason = true;
      const piece = contentOf(choice);
      if (piece) {
        if (result.ttftMs === undefined) result.ttftMs = now - started;
        else result.itlMs.push(now - lastContentAt);
        lastContentAt = now;
        contentEvents++;
        result.text += piece;
      }
      if (json?.usage) applyUsage(result, json.usage);
    }
  });
  res.on('end', () => {
    // Without a usage chunk, each content event is counted as one token (an estimate).
    if (!result.outputTokens) result.outputTokens = contentEvents;
    const complete = sawDone || sawFinishReason;
    finish(broken || !complete || parser.midEvent ? 'stream_error' : undefined);
  });
}
