import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REQUEST_LIMITS as L } from '../../src/api/request-limits';
import { startCluster, type TestCluster } from '../support/cluster';
import { CLIENT } from '../support/auth';

/** Caps on stop strings, tools, messages, prompts and metadata (issue 16): over a cap is a 400 naming the parameter. */
describe('request limits', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster({ workers: 1, worker: { decodeBaseMs: 1 } });
  });
  afterAll(async () => c?.close());

  const post = async (path: string, body: object) => {
    const res = await fetch(`${c.gateway.url}${path}`, { method: 'POST', headers: { ...CLIENT, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as { error: { type: string; param?: string | null; message: string }; type?: string } };
  };
  const msgs = [{ role: 'user', content: 'hi' }];
  const chat = (extra: object) => post('/v1/chat/completions', { model: 'qwen3-mock', messages: msgs, max_tokens: 2, ...extra });
  const tool = (i: number) => ({ type: 'function', function: { name: `f${i}`, parameters: { type: 'object' } } });

  it.each([
    ['too many stop strings', { stop: Array.from({ length: L.stopSequences + 1 }, (_, i) => `s${i}`) }, 'stop'],
    ['a stop string too long', { stop: 'x'.repeat(L.stopChars + 1) }, 'stop'],
    ['a stop string in a list too long', { stop: ['ok', 'x'.repeat(L.stopChars + 1)] }, 'stop[1]'],
    ['too many stop token ids', { stop_token_ids: Array.from({ length: L.stopTokenIds + 1 }, (_, i) => i) }, 'stop_token_ids'],
    ['too many tools', { tools: Array.from({ length: L.tools + 1 }, (_, i) => tool(i)) }, 'tools'],
    ['too many messages', { messages: Array.from({ length: L.messages + 1 }, () => msgs[0]) }, 'messages'],
    ['too many content parts', { messages: [{ role: 'user', content: Array.from({ length: L.contentParts + 1 }, () => ({ type: 'text', text: 'a' })) }] }, 'messages[0].content'],
    ['a user label too long', { user: 'u'.repeat(L.userChars + 1) }, 'user'],
  ])('chat: %s → 400', async (_what, extra, param) => {
    const r = await chat(extra);
    expect(r.status).toBe(400);
    expect(r.body.error.type).toBe('invalid_request_error');
    expect(r.body.error.param).toBe(param);
  });

  it('chat at every cap is served', async () => {
    const r = await chat({
      stop: Array.from({ length: L.stopSequences }, (_, i) => `${'x'.repeat(L.stopChars - 3)}${String(i).padStart(3, '0')}`),
      stop_token_ids: Array.from({ length: L.stopTokenIds }, (_, i) => 200_000 + i),
      tools: Array.from({ length: L.tools }, (_, i) => tool(i)),
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
  });

  it('completions: too many prompts → 400', async () => {
    const r = await post('/v1/completions', { model: 'qwen3-mock', prompt: Array.from({ length: L.prompts + 1 }, () => 'p'), max_tokens: 1 });
    expect(r.status).toBe(400);
    expect(r.body.error.param).toBe('prompt');
  });

  it('messages (Anthropic): long stop sequences and too many tools → 400 in Anthropic shape', async () => {
    const base = { model: 'qwen3-mock', max_tokens: 2, messages: msgs };
    for (const extra of [{ stop_sequences: ['y'.repeat(L.stopChars + 1)] }, { tools: Array.from({ length: L.tools + 1 }, (_, i) => ({ name: `t${i}`, input_schema: { type: 'object' } })) }]) {
      const r = await post('/v1/messages', { ...base, ...extra });
      expect(r.status).toBe(400);
      expect(r.body.type).toBe('error');
      expect(r.body.error.type).toBe('invalid_request_error');
    }
  });

  it('responses: too many metadata pairs or input items → 400', async () => {
    const meta = Object.fromEntries(Array.from({ length: L.metadataPairs + 1 }, (_, i) => [`k${i}`, 'v']));
    expect((await post('/v1/responses', { model: 'qwen3-mock', input: 'hi', metadata: meta })).body.error.param).toBe('metadata');
    const items = Array.from({ length: L.messages + 1 }, () => ({ role: 'user', content: 'x' }));
    expect((await post('/v1/responses', { model: 'qwen3-mock', input: items })).body.error.param).toBe('input');
  });
});
