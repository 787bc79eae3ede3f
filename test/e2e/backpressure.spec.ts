import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, CLIENT } from '../support/auth';
import { startCluster, waitFor, type TestCluster } from '../support/cluster';

const IDLE_MS = 400;
const MAX_TOKENS = 20_000;

/**
 * A client that stops reading: the gateway stops pulling the engine's stream (gRPC flow control
 * then holds the rest at the engine) instead of buffering the whole answer in its memory, and the
 * stream-idle watchdog does not blame the worker for the client's pause.
 */
describe('gateway: backpressure from a slow SSE reader', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster({ workers: 1, worker: { decodeBaseMs: 0, decodePerRunningMs: 0 } as never, gateway: { streamIdleTimeoutMs: IDLE_MS } });
  });
  afterAll(async () => c?.close());

  const inFlight = async (): Promise<number> => {
    const res = await fetch(`${c.gateway.url}/workers`, { headers: ADMIN });
    const body = (await res.json()) as { data?: { in_flight: number }[] };
    return (body.data ?? []).reduce((n, w) => n + w.in_flight, 0);
  };

  it('holds the engine stream while the client pauses, then delivers the whole answer', async () => {
    const { port } = new URL(c.gateway.url);
    const body = JSON.stringify({ model: 'qwen3-mock', messages: [{ role: 'user', content: 'Write a lot.' }], max_tokens: MAX_TOKENS, ignore_eos: true, stream: true, stream_options: { include_usage: true } });
    const socket: Socket = connect(Number(port), '127.0.0.1');
    const chunks: Buffer[] = [];
    let ended = false;
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('end', () => (ended = true));
    socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: ${CLIENT.authorization}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    await waitFor(() => Buffer.concat(chunks).includes('"content":"'), 10_000, 'first tokens');
    socket.pause();
    // The engine finishes its side (its stream waits in flow control), but the gateway has not
    // consumed it: the request is still in flight on the gateway after pausing well past the idle timeout.
    const engine = c.workers[0].engine;
    await waitFor(() => engine.runningCount === 0, 30_000, 'the engine done generating');
    const pausedAt = Date.now();
    await waitFor(() => Date.now() - pausedAt >= 3 * IDLE_MS, 10_000, 'a client pause of three idle timeouts');
    expect(await inFlight()).toBe(1);
    socket.resume();
    await waitFor(() => ended, 30_000, 'the whole stream');
    const text = Buffer.concat(chunks).toString();
    expect(text).not.toContain('"error"');
    expect(text).toContain('data: [DONE]');
    const usage = JSON.parse(text.split('\n').filter((l) => l.startsWith('data: {') && l.includes('"usage":{')).pop()!.slice(6)) as { usage: { completion_tokens: number } };
    expect(usage.usage.completion_tokens).toBe(MAX_TOKENS);
  }, 90_000);
});
