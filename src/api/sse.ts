import type { FastifyReply } from 'fastify';
import { requestIdHeaders } from './request-ids';

/**
 * Writes a server-sent event stream on the raw response. Fastify is told the reply is hijacked,
 * so headers are written here, with the request-id headers already set on the reply.
 */
export class SseWriter {
  private closed = false;
  private corked = false;

  constructor(private readonly reply: FastifyReply) {
    reply.hijack();
    // No `connection` header: Node keeps the connection alive unless the client asked to close it
    // (forcing keep-alive held such connections open until the idle timeout).
    reply.raw.writeHead(200, {
      ...requestIdHeaders(reply),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
    });
  }

  get isClosed(): boolean {
    return this.closed || this.reply.raw.destroyed;
  }

  data(payload: unknown): void {
    if (this.isClosed) return;
    this.write(`data: ${typeof payload === 'string' ? payload : JSON.stringify(payload)}\n\n`);
  }

  event(name: string, payload: unknown): void {
    if (this.isClosed) return;
    this.write(`event: ${name}\ndata: ${JSON.stringify(payload)}\n\n`);
  }

  /**
   * One socket write per event-loop iteration, not per event. Node corks a response only until the
   * end of the current tick, but an engine's chunks often arrive several per socket read, each
   * handled in its own tick: held until the loop's check phase (setImmediate, right after the poll
   * phase that delivered them), they leave in one syscall. Nothing waits for a timer or for more
   * input, so no event is delayed past the iteration that produced it. Syscalls are the dominant
   * per-token cost on virtualised hosts.
   */
  private write(chunk: string): void {
    const raw = this.reply.raw;
    if (!this.corked) {
      this.corked = true;
      raw.cork();
      setImmediate(() => {
        this.corked = false;
        raw.uncork();
      });
    }
    raw.write(chunk);
  }

  /** The client's socket buffer is over its high-water mark: callers await drained() only then (no await per event otherwise). */
  get backlogged(): boolean {
    return this.reply.raw.writableNeedDrain && !this.isClosed;
  }

  /**
   * Resolves once the client has taken what was written (at once when its socket buffer is below
   * the high-water mark, or the client is gone). Awaited between engine events, it holds the pull
   * on the engine's stream: gRPC flow control then slows the engine for a slow reader, instead of
   * its whole output piling up in this process's memory.
   */
  drained(): Promise<void> {
    const raw = this.reply.raw;
    if (!this.backlogged) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        raw.off('drain', done);
        raw.off('close', done);
        resolve();
      };
      raw.on('drain', done);
      raw.on('close', done);
    });
  }

  end(): void {
    if (this.isClosed) return;
    this.closed = true;
    this.reply.raw.end();
  }
}
