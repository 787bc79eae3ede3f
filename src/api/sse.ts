import type { FastifyReply } from 'fastify';

/**
 * Writes a server-sent event stream on the raw response. Fastify is told the reply is hijacked,
 * so headers are written here (including the request id).
 */
export class SseWriter {
  private closed = false;

  constructor(private readonly reply: FastifyReply, requestId: string) {
    reply.hijack();
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-request-id': requestId,
    });
  }

  get isClosed(): boolean {
    return this.closed || this.reply.raw.destroyed;
  }

  data(payload: unknown): void {
    if (this.isClosed) return;
    this.reply.raw.write(`data: ${typeof payload === 'string' ? payload : JSON.stringify(payload)}\n\n`);
  }

  event(name: string, payload: unknown): void {
    if (this.isClosed) return;
    this.reply.raw.write(`event: ${name}\ndata: ${JSON.stringify(payload)}\n\n`);
  }

  end(): void {
    if (this.isClosed) return;
    this.closed = true;
    this.reply.raw.end();
  }
}
