import { once } from 'node:events';
import type { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import { requestIdHeaders } from '../api/request-ids';
import type { Clock, Timers } from '@drover/runtime';
import { openAiErrorBody } from '../errors/error-body';
import { HttpUpstreamError } from '../workers/http-upstream-error';
import { headerOf, statusError } from '../workers/http-upstream-client';
import { BodyTooLarge, readBounded, UPSTREAM_LIMITS } from '../workers/bounded-body';
import type { WorkerRecord } from '../workers/worker-record';
import { inspectEvent, observeJson, SseFramer, type UpstreamOutcome } from './sse-framer';
import { lastEventEnd, scanEvents } from './sse-passthrough';
import { upstreamFailure } from './http-proxy-errors';

export interface AttemptInput {
  worker: WorkerRecord;
  path: string;
  /** The client's validated body; `model` is replaced by the upstream's own name per worker. */
  body: Record<string, unknown>;
  /** The client's body as it arrived: forwarded as is when the upstream's model name is the same. */
  raw?: Buffer;
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
 *
 * Bytes are forwarded as they are whenever the gateway has nothing to change in them: the
 * client's body goes upstream as received, the upstream's answer comes back as received (a
 * non-streaming answer is parsed for its usage, not re-serialised). Only when the upstream names
 * the model differently from the gateway are bodies rewritten.
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
  const upstreamModel = worker.upstreamModel ?? input.model;
  const rename = upstreamModel !== input.model ? input.model : undefined;
  const outcome: UpstreamOutcome = { sawDone: false };
  // The upstream's answer: once read to its end, its connection goes back to the pool as is.
  let answerBody: Readable | undefined;
  try {
    const payload = input.raw && input.body.model === upstreamModel ? input.raw : JSON.stringify({ ...input.body, model: upstreamModel });
    const res = await worker.http!.post(input.path, payload, input.headers, abort.signal);
    answerBody = res.body;
    if (res.statusCode === 429 || res.statusCode >= 500) throw await statusError(res, clock.now());
    const type = headerOf(res, 'content-type') ?? 'application/json';
    const ok = res.statusCode >= 200 && res.statusCode < 300;
    if (input.stream && ok && type.includes('text/event-stream')) {
      const chunks = res.body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
      const first = await read(chunks, abort.signal);
      if (first.done) throw new HttpUpstreamError('broken', 'the upstream ended the stream before any event');
      timers.clearTimeout(ttft);
      input.onFirstByte?.();
      const idle = new IdleWatch(input.streamIdleTimeoutMs ?? 0, clock, timers, (ms) => abort.abort(new HttpUpstreamError('timeout', `the upstream sent nothing for ${ms} ms`)));
      try {
        return await streamBack(chunks, first.value, input, reply, abort.signal, outcome, rename, clock.now(), idle);
      } finally {
        idle.stop();
      }
    }
    // Non-streaming (or an upstream that answered a stream request with plain JSON): nothing has
    // reached the client until the whole body is here, so a break while reading is retryable.
    let answer: Buffer | string = await readAll(res.body, abort.signal);
    timers.clearTimeout(ttft);
    if (type.includes('json')) {
      try {
        const json = JSON.parse(answer.toString()) as Record<string, unknown>;
        if (ok) observeJson(json, outcome);
        if (rename && 'model' in json) answer = JSON.stringify({ ...json, model: rename });
      } catch {
        // not JSON after all: passed through as is
      }
    }
    reply.status(res.statusCode).header('content-type', type).header('x-drover-worker', worker.id).send(answer);
    return { ...outcome, status: res.statusCode };
  } finally {
    timers.clearTimeout(deadline);
    timers.clearTimeout(ttft);
    input.clientSignal.removeEventListener('abort', onClientGone);
    // Whatever happened, nothing of this attempt may stay open upstream.
    if (!answerBody?.readableEnded && !abort.signal.aborted) abort.abort(new Error('attempt finished'));
  }
}

/**
 * Writes the SSE head, then the upstream's bytes as they arrive, cut only at the last event
 * boundary of each chunk (the rest waits for the next chunk). Never throws.
 */
async function streamBack(
  chunks: AsyncIterator<Buffer>,
  first: Buffer,
  input: AttemptInput,
  reply: FastifyReply,
  signal: AbortSignal,
  outcome: UpstreamOutcome,
  rename: string | undefined,
  firstByteAt: number,
  idle: IdleWatch,
): Promise<AttemptResult> {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    ...requestIdHeaders(reply),
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'x-accel-buffering': 'no',
    'x-drover-worker': input.worker.id,
  });
  // Only a renamed model needs the events decoded and rewritten.
  const framer = rename ? new SseFramer() : undefined;
  const forward = async (events: Buffer): Promise<void> => {
    let out: Buffer | string = events;
    if (framer) {
      out = '';
      for (const event of framer.push(events.toString())) out += inspectEvent(event, outcome, rename);
    } else {
      const seen = scanEvents(events);
      if (seen.done) outcome.sawDone = true;
      if (seen.outcome) for (const event of new SseFramer().push(events.toString())) inspectEvent(event, outcome);
    }
    if (raw.destroyed || out.length === 0) return;
    // Backpressure: a slow client slows the upstream read instead of growing a buffer here.
    if (!raw.write(out)) {
      idle.pause();
      await once(raw, 'drain', { signal });
      idle.resume();
    }
  };
  let pending: Buffer | undefined;
  let broke: HttpUpstreamError | undefined;
  try {
    let chunk: Buffer | undefined = first;
    while (chunk) {
      const buf: Buffer = pending ? Buffer.concat([pending, chunk]) : chunk;
      const end = lastEventEnd(buf);
      // An event is held until its end arrives; one that never ends is not buffered without limit.
      if (buf.length - Math.max(end, 0) > UPSTREAM_LIMITS.eventBytes || (framer?.pendingLength ?? 0) > UPSTREAM_LIMITS.eventBytes) {
        throw new HttpUpstreamError('broken', `the upstream sent an event over ${UPSTREAM_LIMITS.eventBytes} bytes`);
      }
      if (end === -1) pending = buf;
      else {
        pending = end === buf.length ? undefined : buf.subarray(end);
        await forward(end === buf.length ? buf : buf.subarray(0, end));
      }
      const next = await read(chunks, signal);
      idle.saw();
      chunk = next.done ? undefined : next.value;
    }
    // An event the upstream did not terminate is forwarded terminated.
    if (pending && pending.toString().trim() !== '') await forward(Buffer.concat([pending, Buffer.from('\n\n')]));
  } catch (err) {
    if (!input.clientSignal.aborted) {
      broke = err instanceof HttpUpstreamError ? err : new HttpUpstreamError('broken', `the upstream stream broke: ${(err as Error).message}`);
      // A half-received event is dropped (pending): the error event must start on an event boundary.
      if (!raw.destroyed) raw.write(`data: ${JSON.stringify(openAiErrorBody(upstreamFailure(broke)))}\n\ndata: [DONE]\n\n`);
    }
    await chunks.return?.().catch(() => undefined);
  } finally {
    if (!raw.destroyed) raw.end();
  }
  return { ...outcome, status: 200, firstByteAt, brokeMidStream: broke };
}

/**
 * The stream-idle timeout: fires when the upstream sent nothing for `ms` while the proxy was
 * waiting on it. One timer per quiet period rather than one per chunk: it is re-armed for the
 * remaining time when it finds that bytes arrived since it was set. Time spent waiting for a slow
 * client to drain is not upstream silence.
 */
class IdleWatch {
  private lastAt: number;
  private timer: ReturnType<Timers['setTimeout']> | undefined;
  private paused = false;

  constructor(
    private readonly ms: number,
    private readonly clock: Clock,
    private readonly timers: Timers,
    private readonly onIdle: (ms: number) => void,
  ) {
    this.lastAt = clock.now();
    if (ms > 0) this.arm(ms);
  }

  saw(): void {
    if (this.ms > 0) this.lastAt = this.clock.now();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.saw();
  }

  stop(): void {
    this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(delay: number): void {
    this.timer = this.timers.setTimeout(() => this.check(), delay);
  }

  private check(): void {
    if (this.paused) return this.arm(this.ms);
    const quiet = this.clock.now() - this.lastAt;
    if (quiet >= this.ms) this.onIdle(this.ms);
    else this.arm(this.ms - quiet);
  }
}

/** The next chunk, with the abort reason (a timeout, the client leaving) as the error. */
async function read(chunks: AsyncIterator<Buffer>, signal: AbortSignal): Promise<IteratorResult<Buffer>> {
  try {
    return await chunks.next();
  } catch (err) {
    throw bodyError(err, signal);
  }
}

async function readAll(body: Readable, signal: AbortSignal): Promise<Buffer> {
  try {
    return await readBounded(body, UPSTREAM_LIMITS.answerBytes);
  } catch (err) {
    if (err instanceof BodyTooLarge) throw new HttpUpstreamError('broken', `the upstream answer exceeds ${err.limit} bytes`);
    throw bodyError(err, signal);
  }
}

function bodyError(err: unknown, signal: AbortSignal): unknown {
  if (signal.aborted) return signal.reason ?? err;
  return new HttpUpstreamError('broken', `the upstream response broke off: ${(err as Error)?.message ?? String(err)}`);
}
