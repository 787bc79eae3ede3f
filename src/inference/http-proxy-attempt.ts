import { once } from 'node:events';
import type { FastifyReply } from 'fastify';
import type { Clock, Timers } from '@drover/runtime';
import { openAiErrorBody } from '../errors/error-body';
import { HttpUpstreamError } from '../workers/http-upstream-error';
import { statusError } from '../workers/http-upstream-client';
import type { WorkerRecord } from '../workers/worker-record';
import { inspectEvent, observeJson, SseFramer, type UpstreamOutcome } from './sse-framer';
import { upstreamFailure } from './http-proxy-errors';

export interface AttemptInput {
  worker: WorkerRecord;
  path: string;
  /** The client's validated body; `model` is replaced by the upstream's own name per worker. */
  body: Record<string, unknown>;
  /** The gateway's model name (what responses should say when it differs from the upstream's). */
  model: string;
  stream: boolean;
  requestId: string;
  /** x-request-id and W3C trace context for the upstream. */
  headers: Record<string, string>;
  /** The client went away. */
  clientSignal: AbortSignal;
  requestTimeoutMs: number;
  /** Time to the first response byte of a streamed answer (0 = off). */
  ttftTimeoutMs: number;
  /** Once a stream started, the longest silence from the upstream before the attempt is abandoned (0 = off). */
  streamIdleTimeoutMs?: number;
  /** The upstream's first byte of a streamed answer arrived (the worker registry's first-token count). */
  onFirstByte?: () => void;
}

export interface AttemptResult extends UpstreamOutcome {
  status: number;
  firstByteAt?: number;
  /** The stream broke after output reached the client (ended with an error event). */
  brokeMidStream?: HttpUpstreamError;
}

/**
 * One try on one HTTP upstream. Throws (for the caller to retry elsewhere) only while nothing has
 * been sent to the client: transport errors, 5xx/429, timeouts, a stream that broke before its
 * first byte. Other statuses (a 400 from the engine) are passed through with the upstream's body.
 * Once SSE bytes went out, a failure ends the stream with an OpenAI error event and `[DONE]`.
 */
export async function proxyAttempt(input: AttemptInput, reply: FastifyReply, clock: Clock, timers: Timers): Promise<AttemptResult> {
  const { worker } = input;
  const abort = new AbortController();
  const onClientGone = (): void => abort.abort(input.clientSignal.reason ?? new Error('client disconnected'));
  if (input.clientSignal.aborted) onClientGone();
  input.clientSignal.addEventListener('abort', onClientGone, { once: true });
  const deadline = timers.setTimeout(() => abort.abort(new HttpUpstreamError('timeout', `no complete answer within ${input.requestTimeoutMs} ms`)), input.requestTimeoutMs);
  const ttft =
    input.stream && input.ttftTimeoutMs > 0
      ? timers.setTimeout(() => abort.abort(new HttpUpstreamError('timeout', `no first byte within ${input.ttftTimeoutMs} ms`)), input.ttftTimeoutMs)
      : undefined;
  const rename = worker.upstreamModel !== undefined && worker.upstreamModel !== input.model ? input.model : undefined;
  const outcome: UpstreamOutcome = { sawDone: false };
  try {
    const payload = JSON.stringify({ ...input.body, model: worker.upstreamModel ?? input.model });
    const res = await worker.http!.post(input.path, payload, input.headers, abort.signal);
    if (res.status === 429 || res.status >= 500) throw await statusError(res, clock.now());
    const type = res.headers.get('content-type') ?? 'application/json';
    if (input.stream && res.ok && type.includes('text/event-stream') && res.body) {
      const reader = res.body.getReader();
      const first = await read(reader, abort.signal);
      if (first.done) throw new HttpUpstreamError('broken', 'the upstream ended the stream before any event');
      timers.clearTimeout(ttft);
      input.onFirstByte?.();
      const idleMs = input.streamIdleTimeoutMs ?? 0;
      // Arms the stall timer for one read; the returned function disarms it.
      const watchIdle = (): (() => void) => {
        if (idleMs <= 0) return () => undefined;
        const t = timers.setTimeout(() => abort.abort(new HttpUpstreamError('timeout', `the upstream sent nothing for ${idleMs} ms`)), idleMs);
        return () => timers.clearTimeout(t);
      };
      return await streamBack(reader, first.value, input, reply, abort.signal, outcome, rename, clock.now(), watchIdle);
    }
    // Non-streaming (or an upstream that answered a stream request with plain JSON): nothing has
    // reached the client until the whole body is here, so a break while reading is retryable.
    let text = await readAll(res, abort.signal);
    timers.clearTimeout(ttft);
    if (type.includes('json')) {
      try {
        const json = JSON.parse(text) as Record<string, unknown>;
        if (res.ok) observeJson(json, outcome);
        if (rename && 'model' in json) text = JSON.stringify({ ...json, model: rename });
      } catch {
        // not JSON after all: passed through as is
      }
    }
    reply.status(res.status).header('content-type', type).header('x-drover-worker', worker.id).send(text);
    return { ...outcome, status: res.status };
  } finally {
    timers.clearTimeout(deadline);
    timers.clearTimeout(ttft);
    input.clientSignal.removeEventListener('abort', onClientGone);
    // Whatever happened, nothing of this attempt may stay open upstream.
    if (!abort.signal.aborted) abort.abort(new Error('attempt finished'));
  }
}

/** Writes the SSE head, then each whole upstream event as it arrives. Never throws. */
async function streamBack(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  first: Uint8Array,
  input: AttemptInput,
  reply: FastifyReply,
  signal: AbortSignal,
  outcome: UpstreamOutcome,
  rename: string | undefined,
  firstByteAt: number,
  watchIdle: () => () => void,
): Promise<AttemptResult> {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    'x-request-id': input.requestId,
    'x-drover-worker': input.worker.id,
  });
  const framer = new SseFramer();
  const decoder = new TextDecoder();
  const write = async (text: string): Promise<void> => {
    if (raw.destroyed || text === '') return;
    // Backpressure: a slow client slows the upstream read instead of growing a buffer here.
    if (!raw.write(text)) await once(raw, 'drain', { signal });
  };
  let chunk: Uint8Array | undefined = first;
  let broke: HttpUpstreamError | undefined;
  try {
    while (chunk) {
      for (const event of framer.push(decoder.decode(chunk, { stream: true }))) await write(inspectEvent(event, outcome, rename));
      const disarm = watchIdle();
      const next = await read(reader, signal).finally(disarm);
      chunk = next.done ? undefined : next.value;
    }
    const rest = framer.rest() + decoder.decode();
    if (rest.trim() !== '') await write(inspectEvent(`${rest}\n\n`, outcome, rename));
  } catch (err) {
    if (!input.clientSignal.aborted) {
      broke = err instanceof HttpUpstreamError ? err : new HttpUpstreamError('broken', `the upstream stream broke: ${(err as Error).message}`);
      // A half-received event is dropped: the error event must start on an event boundary.
      framer.rest();
      if (!raw.destroyed) raw.write(`data: ${JSON.stringify(openAiErrorBody(upstreamFailure(broke)))}\n\ndata: [DONE]\n\n`);
    }
    await reader.cancel().catch(() => undefined);
  } finally {
    if (!raw.destroyed) raw.end();
  }
  return { ...outcome, status: 200, firstByteAt, brokeMidStream: broke };
}

/** reader.read(), with the abort reason (a timeout, the client leaving) as the error. */
async function read(reader: ReadableStreamDefaultReader<Uint8Array>, signal: AbortSignal): ReturnType<ReadableStreamDefaultReader<Uint8Array>['read']> {
  try {
    return await reader.read();
  } catch (err) {
    throw bodyError(err, signal);
  }
}

async function readAll(res: Response, signal: AbortSignal): Promise<string> {
  try {
    return await res.text();
  } catch (err) {
    throw bodyError(err, signal);
  }
}

function bodyError(err: unknown, signal: AbortSignal): unknown {
  if (signal.aborted) return signal.reason ?? err;
  return new HttpUpstreamError('broken', `the upstream response broke off: ${(err as Error)?.message ?? String(err)}`);
}
