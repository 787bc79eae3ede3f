import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../support/cluster';
import { E2E_ENGINES } from '../support/engines';
import { ADMIN } from '../support/auth';

describe.each(E2E_ENGINES)('gateway: Anthropic Messages through the official SDK (%s engine)', (engine) => {
  let c: TestCluster;
  let client: Anthropic;
  beforeAll(async () => {
    c = await startCluster({ workers: 1, worker: { engine } });
    client = new Anthropic({ baseURL: c.gateway.url, apiKey: 'test', maxRetries: 0 });
  });
  afterAll(async () => c?.close());

  it('answers a message with usage and a stop reason', async () => {
    const msg = await client.messages.create({ model: 'qwen3-mock', max_tokens: 6, system: 'Be brief.', messages: [{ role: 'user', content: 'Hi' }] });
    expect(msg.type).toBe('message');
    expect(msg.role).toBe('assistant');
    expect(msg.content[0].type).toBe('text');
    expect(['end_turn', 'max_tokens']).toContain(msg.stop_reason);
    expect(msg.usage.input_tokens).toBeGreaterThan(0);
    expect(msg.usage.output_tokens).toBeLessThanOrEqual(6);
  });

  it('streams events ending in message_stop', async () => {
    const stream = client.messages.stream({ model: 'qwen3-mock', max_tokens: 5, messages: [{ role: 'user', content: 'Stream' }] });
    const types: string[] = [];
    for await (const e of stream) types.push(e.type);
    const final = await stream.finalMessage();
    expect(types[0]).toBe('message_start');
    expect(types).toContain('content_block_delta');
    expect(types[types.length - 1]).toBe('message_stop');
    expect(final.usage.output_tokens).toBeGreaterThan(0);
  });

  it('reports errors in Anthropic shape', async () => {
    const res = await fetch(`${c.gateway.url}/v1/messages`, { method: 'POST', headers: { ...ADMIN, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'qwen3-mock', messages: [] }) });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { type: string; error: { type: string; message: string } };
    expect(body.type).toBe('error');
    expect(body.error.type).toBe('invalid_request_error');
    const missing = await fetch(`${c.gateway.url}/v1/messages`, { method: 'POST', headers: { ...ADMIN, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'nope', max_tokens: 3, messages: [{ role: 'user', content: 'x' }] }) });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { type: string } }).error.type).toBe('not_found_error');
  });
});
