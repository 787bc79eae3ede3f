import Fastify, { type FastifyInstance } from 'fastify';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SseWriter } from './sse';

describe('SseWriter', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  /** Serves one SSE response driven by `script`, and counts the socket writes it took. */
  async function serve(script: (sse: SseWriter) => Promise<void>): Promise<{ body: string; headers: Record<string, unknown>; socketWrites: number }> {
    let socketWrites = 0;
    app = Fastify();
    app.get('/sse', async (_req, reply) => {
      const socket = reply.raw.socket as Socket & { _writev: (...a: unknown[]) => void; _write: (...a: unknown[]) => void };
      for (const name of ['_writev', '_write'] as const) {
        const orig = socket[name].bind(socket);
        socket[name] = (...a: unknown[]) => {
          socketWrites++;
          return orig(...a);
        };
      }
      reply.header('x-request-id', 'req-1'); // set by the request-id hook in the gateway
      await script(new SseWriter(reply));
    });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    const res = await fetch(`${url}/sse`);
    return { body: await res.text(), headers: Object.fromEntries(res.headers), socketWrites };
  }

  it('writes events in order with the SSE headers and the headers already set on the reply (request id)', async () => {
    const { body, headers } = await serve(async (sse) => {
      sse.data({ n: 1 });
      await new Promise((r) => setTimeout(r, 5));
      sse.event('ping', { n: 2 });
      sse.data('[DONE]');
      sse.end();
    });
    expect(body).toBe('data: {"n":1}\n\nevent: ping\ndata: {"n":2}\n\ndata: [DONE]\n\n');
    expect(headers['content-type']).toContain('text/event-stream');
    expect(headers['x-request-id']).toBe('req-1');
  });

  // Node's http response corks its socket for the rest of the turn on the first write; this pins
  // that the SSE path keeps that property (one syscall per turn, not per event).
  it('coalesces the events of one event-loop turn into one socket write', async () => {
    const { body, socketWrites } = await serve(async (sse) => {
      // One turn: five events (the last text, finish, usage, [DONE]) then a later turn's event.
      for (let i = 0; i < 5; i++) sse.data({ i });
      await new Promise((r) => setTimeout(r, 5));
      sse.data({ i: 5 });
      await new Promise((r) => setTimeout(r, 5));
      sse.end();
    });
    expect(body.match(/^data: /gm)).toHaveLength(6);
    // Headers and the first turn's five events in one write, the later event in another, the
    // terminating chunk in a third: far fewer than one per event.
    expect(socketWrites).toBeLessThanOrEqual(3);
  });

  it('coalesces events from several ticks of one loop iteration (chunks handled one per tick)', async () => {
    const { body, socketWrites } = await serve(async (sse) => {
      await new Promise((r) => setTimeout(r, 5)); // headers flushed on their own first
      for (let i = 0; i < 5; i++) {
        sse.data({ i });
        await new Promise((r) => process.nextTick(r));
      }
      await new Promise((r) => setTimeout(r, 5));
      sse.end();
    });
    expect(body.match(/^data: /gm)).toHaveLength(5);
    // Headers, the five events, the terminating chunk: per-tick corking alone would take seven.
    expect(socketWrites).toBeLessThanOrEqual(3);
  });

  it('ignores writes after the client went away', async () => {
    const { body } = await serve(async (sse) => {
      sse.data({ a: 1 });
      sse.end();
      sse.data({ late: true });
      expect(sse.isClosed).toBe(true);
    });
    expect(body).toBe('data: {"a":1}\n\n');
  });
});
