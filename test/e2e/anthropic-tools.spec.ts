import Anthropic from '@anthropic-ai/sdk';
import { startMockWorker } from '@drover/mock-worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../src/gateway';
import { TEST_API_KEY } from '../support/auth';
import { testConfig } from '../support/config';
import { callOf } from '../support/tool-models';
import { gptOssModelDir } from '../support/model-dirs';

type MockWorker = Awaited<ReturnType<typeof startMockWorker>>;

const tools: Anthropic.Tool[] = [{ name: 'get_weather', description: 'Weather in a city', input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }];

describe('Anthropic Messages: tool_use, tool_result and thinking through the model parsers (official SDK, scripted mock replies)', () => {
  const workers: MockWorker[] = [];
  let gateway: RunningGateway;
  let client: Anthropic;

  beforeAll(async () => {
    workers.push(
      await startMockWorker({
        port: 0,
        model: 'qwen3-mock',
        replies: [
          { match: 'sunny, 21C', reply: '<think>\nThe tool answered.\n</think>\n\nIt is sunny in Paris, 21C.' },
          { match: 'weather in Paris', reply: callOf('qwen3-mock') },
          { match: 'Paris and Oslo', reply: 'Checking both.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Oslo", "unit": "C"}}\n</tool_call>' },
          { match: 'Tell me a fact', reply: '<think>\nA fact.\n</think>\n\nWater boils at 100C.' },
        ],
      }),
    );
    workers.push(
      await startMockWorker({
        port: 0,
        model: 'gpt-oss-mock',
        tokenizerDir: gptOssModelDir(),
        replies: [
          { match: 'weather in Paris', reply: callOf('gpt-oss-mock') },
        ],
      }),
    );
    gateway = await startGateway(testConfig({ workerUrls: workers.map((w) => w.url) }));
    client = new Anthropic({ baseURL: gateway.url, apiKey: TEST_API_KEY, maxRetries: 0, timeout: 30_000 });
  }, 60_000);
  afterAll(async () => {
    await gateway?.shutdown(0);
    await Promise.all(workers.map((w) => w.close()));
  });

  it('Hermes/Qwen3: tool_use (thinking split off) → tool_result → final answer', async () => {
    const messages: Anthropic.MessageParam[] = [{ role: 'user', content: 'What is the weather in Paris?' }];
    const first = await client.messages.create({ model: 'qwen3-mock', max_tokens: 200, messages, tools });
    expect(first.stop_reason).toBe('tool_use');
    expect(first.content.map((b) => b.type)).toEqual(['thinking', 'tool_use']);
    expect((first.content[0] as Anthropic.ThinkingBlock).thinking.trim()).toBe('The user wants the weather.');
    const use = first.content[1] as Anthropic.ToolUseBlock;
    expect(use.id).toMatch(/^toolu_/);
    expect(use.name).toBe('get_weather');
    expect(use.input).toEqual({ city: 'Paris' });
    messages.push({ role: 'assistant', content: first.content }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: 'sunny, 21C' }] });
    const second = await client.messages.create({ model: 'qwen3-mock', max_tokens: 200, messages, tools });
    expect(second.stop_reason).toBe('end_turn');
    expect(second.content.map((b) => b.type)).toEqual(['thinking', 'text']);
    expect((second.content[1] as Anthropic.TextBlock).text).toBe('It is sunny in Paris, 21C.');
  });

  it('Hermes/Qwen3 streaming: text, then parallel tool_use blocks built from input_json_delta', async () => {
    const stream = client.messages.stream({ model: 'qwen3-mock', max_tokens: 200, messages: [{ role: 'user', content: 'Weather in Paris and Oslo?' }], tools });
    const events: Anthropic.RawMessageStreamEvent[] = [];
    for await (const e of stream) events.push(e);
    const final = await stream.finalMessage();
    expect(final.stop_reason).toBe('tool_use');
    expect(final.content.map((b) => b.type)).toEqual(['text', 'tool_use', 'tool_use']);
    expect((final.content[0] as Anthropic.TextBlock).text).toBe('Checking both.');
    expect(final.content.slice(1).map((b) => (b as Anthropic.ToolUseBlock).input)).toEqual([{ city: 'Paris' }, { city: 'Oslo', unit: 'C' }]);
    // Each block opens, streams and closes before the next one opens.
    const starts = events.filter((e) => e.type === 'content_block_start').map((e) => e.index);
    expect(starts).toEqual([0, 1, 2]);
    const jsonDeltas = events.filter((e) => e.type === 'content_block_delta' && e.delta.type === 'input_json_delta');
    expect(jsonDeltas.length).toBeGreaterThan(2);
    let open = -1;
    for (const e of events) {
      if (e.type === 'content_block_start') {
        expect(open).toBe(-1);
        open = e.index;
      } else if (e.type === 'content_block_delta') expect(e.index).toBe(open);
      else if (e.type === 'content_block_stop') {
        expect(e.index).toBe(open);
        open = -1;
      }
    }
    expect(events[events.length - 1].type).toBe('message_stop');
  });

  it('streaming thinking: thinking_delta then text_delta; thinking disabled makes it all text', async () => {
    const stream = client.messages.stream({ model: 'qwen3-mock', max_tokens: 200, messages: [{ role: 'user', content: 'Tell me a fact' }] });
    const deltas: string[] = [];
    for await (const e of stream) if (e.type === 'content_block_delta') deltas.push(e.delta.type);
    const final = await stream.finalMessage();
    expect(final.content.map((b) => b.type)).toEqual(['thinking', 'text']);
    expect((final.content[0] as Anthropic.ThinkingBlock).thinking.trim()).toBe('A fact.');
    expect((final.content[1] as Anthropic.TextBlock).text).toBe('Water boils at 100C.');
    expect(deltas.indexOf('text_delta')).toBeGreaterThan(deltas.lastIndexOf('thinking_delta'));
    const off = await client.messages.create({ model: 'qwen3-mock', max_tokens: 200, messages: [{ role: 'user', content: 'Tell me a fact' }], thinking: { type: 'disabled' } });
    expect(off.content.map((b) => b.type)).toEqual(['text']);
  });

  it('GPT-OSS (harmony): analysis becomes thinking, the commentary call a tool_use, streaming and not', async () => {
    const params = { model: 'gpt-oss-mock', max_tokens: 200, messages: [{ role: 'user' as const, content: 'What is the weather in Paris?' }], tools };
    const r = await client.messages.create(params);
    expect(r.stop_reason).toBe('tool_use');
    expect(r.content.map((b) => b.type)).toEqual(['thinking', 'tool_use']);
    expect((r.content[1] as Anthropic.ToolUseBlock).input).toEqual({ city: 'Paris' });
    const stream = client.messages.stream(params);
    const final = await stream.finalMessage();
    expect(final.stop_reason).toBe('tool_use');
    expect(final.content.map((b) => b.type)).toEqual(['thinking', 'tool_use']);
    expect((final.content[0] as Anthropic.ThinkingBlock).thinking).toBe('Need the weather tool.');
    expect((final.content[1] as Anthropic.ToolUseBlock).input).toEqual({ city: 'Paris' });
  });

  it('tool_choice any / tool are enforced through the engine constraint; an unknown tool name is a 400', async () => {
    const any = await client.messages.create({ model: 'qwen3-mock', max_tokens: 200, messages: [{ role: 'user', content: 'Anything at all' }], tools, tool_choice: { type: 'any' } });
    expect(any.stop_reason).toBe('tool_use');
    expect(any.content.find((b) => b.type === 'tool_use')).toMatchObject({ name: 'get_weather' });
    const named = await client.messages.create({ model: 'qwen3-mock', max_tokens: 200, messages: [{ role: 'user', content: 'Anything at all' }], tools, tool_choice: { type: 'tool', name: 'get_weather' } });
    expect(named.content.find((b) => b.type === 'tool_use')).toMatchObject({ name: 'get_weather', input: { city: '' } });
    await expect(client.messages.create({ model: 'qwen3-mock', max_tokens: 20, messages: [{ role: 'user', content: 'x' }], tools, tool_choice: { type: 'tool', name: 'nope' } })).rejects.toMatchObject({ status: 400 });
  });
});
