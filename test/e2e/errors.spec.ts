import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../support/cluster';
import { ADMIN } from '../support/auth';
import { E2E_ENGINES } from '../support/engines';

interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string };
}

describe.each(E2E_ENGINES)('gateway: errors in OpenAI shape with the right status (%s engine)', (engine) => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster({ workers: 1, worker: { engine, maxContextLength: 256 } as never });
  });
  afterAll(async () => c?.close());

  async function post(path: string, body: string | object, headers: Record<string, string> = {}): Promise<{ status: number; body: ErrorBody }> {
    const res = await fetch(`${c.gateway.url}${path}`, {
      method: 'POST',
      headers: { ...ADMIN, 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as ErrorBody };
  }

  function expectShape(body: ErrorBody): void {
    expect(typeof body.error.message).toBe('string');
    expect(typeof body.error.type).toBe('string');
    expect(body.error).toHaveProperty('param');
    expect(typeof body.error.code).toBe('string');
  }

  it('invalid JSON → 400', async () => {
    const r = await post('/v1/chat/completions', '{"model": "qwen3-mock", "messages": [');
    expect(r.status).toBe(400);
    expectShape(r.body);
    expect(r.body.error.type).toBe('invalid_request_error');
  });

  it('missing model → 400 naming the param', async () => {
    const r = await post('/v1/chat/completions', { messages: [{ role: 'user', content: 'hi' }] });
    expect(r.status).toBe(400);
    expect(r.body.error.param).toBe('model');
  });

  it('missing messages → 400', async () => {
    const r = await post('/v1/chat/completions', { model: 'qwen3-mock' });
    expect(r.status).toBe(400);
    expect(r.body.error.param).toBe('messages');
  });

  it('wrong types → 400', async () => {
    const a = await post('/v1/chat/completions', { model: 'qwen3-mock', messages: 'hello' });
    expect(a.status).toBe(400);
    const b = await post('/v1/chat/completions', { model: 'qwen3-mock', messages: [{ role: 'user', content: 'x' }], temperature: 'hot' });
    expect(b.status).toBe(400);
    expect(b.body.error.param).toBe('temperature');
    const c2 = await post('/v1/chat/completions', { model: 'qwen3-mock', messages: [{ role: 'wizard', content: 'x' }] });
    expect(c2.status).toBe(400);
    expect(c2.body.error.param).toBe('messages[0].role');
    const d = await post('/v1/chat/completions', { model: 'qwen3-mock', messages: [{ role: 'user', content: 'x' }], max_tokens: -3 });
    expect(d.status).toBe(400);
  });

  it('a JSON array body → 400', async () => {
    const r = await post('/v1/chat/completions', '[1,2,3]');
    expect(r.status).toBe(400);
  });

  it('unknown model → 404', async () => {
    const r = await post('/v1/chat/completions', { model: 'nope', messages: [{ role: 'user', content: 'hi' }] });
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('model_not_found');
    expect(r.body.error.param).toBe('model');
  });

  it('prompt plus max_tokens beyond the context length → 400', async () => {
    const r = await post('/v1/chat/completions', { model: 'qwen3-mock', messages: [{ role: 'user', content: 'hi' }], max_tokens: 100_000 });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('context_length_exceeded');
    const long = 'word '.repeat(400);
    const s = await post('/v1/chat/completions', { model: 'qwen3-mock', messages: [{ role: 'user', content: long }], stream: true });
    expect(s.status).toBe(400);
    expect(s.body.error.code).toBe('context_length_exceeded');
  });

  it('n > 1 → clear 400', async () => {
    const r = await post('/v1/chat/completions', { model: 'qwen3-mock', messages: [{ role: 'user', content: 'hi' }], n: 2 });
    expect(r.status).toBe(400);
    expect(r.body.error.param).toBe('n');
  });

  it('unknown route → 404 in OpenAI shape', async () => {
    const res = await fetch(`${c.gateway.url}/v1/nothing-here`, { headers: ADMIN });
    expect(res.status).toBe(404);
    expectShape((await res.json()) as ErrorBody);
  });

  it('the node keeps serving after bad input', async () => {
    const res = await c.client.chat.completions.create({ model: 'qwen3-mock', messages: [{ role: 'user', content: 'ok?' }], max_tokens: 3 });
    expect(res.choices[0].message.content).toBeTruthy();
  });
});
