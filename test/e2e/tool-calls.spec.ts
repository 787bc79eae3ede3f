import { startMockWorker } from '@drover/mock-worker';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../src/gateway';
import { TEST_API_KEY } from '../support/auth';
import { testConfig } from '../support/config';
import { callOf, PARALLEL_CALLS } from '../support/tool-models';
import { lenmlModelDir } from '../support/model-dirs';
import { E2E_ENGINES } from '../support/engines';

type MockWorker = Awaited<ReturnType<typeof startMockWorker>>;

const tools: OpenAI.Chat.Completions.ChatCompletionTool[] = [
  { type: 'function', function: { name: 'get_weather', description: 'Weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } },
];

// Parsers see special tokens: on SGLang (no EOS ids in its model info) the end-of-turn token must still stop the output.
describe.each(E2E_ENGINES)('tool calls and reasoning through the model parsers (OpenAI SDK, scripted mock replies; %s engine)', (engine) => {
  const workers: MockWorker[] = [];
  let gateway: RunningGateway;
  let client: OpenAI;

  beforeAll(async () => {
    workers.push(
      await startMockWorker({
        port: 0,
        engine,
        model: 'qwen3-mock',
        replies: [
          { match: 'sunny, 21C', reply: 'It is sunny in Paris, 21C.' },
          { match: 'weather in Paris', reply: callOf('qwen3-mock') },
          { match: 'Paris and Oslo', reply: PARALLEL_CALLS },
          { match: 'prose', reply: 'Write <tool_call> tags to call a tool.' },
        ],
      }),
    );
    workers.push(
      await startMockWorker({
        port: 0,
        engine,
        model: 'deepseek-v3-mock',
        tokenizerDir: lenmlModelDir('deepseek_v3'),
        replies: [{ match: 'weather in Paris', reply: callOf('deepseek-v3-mock') }],
      }),
    );
    gateway = await startGateway(testConfig({ workerUrls: workers.map((w) => w.url) }));
    client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: TEST_API_KEY, maxRetries: 0, timeout: 30_000 });
  }, 60_000);
  afterAll(async () => {
    await gateway?.shutdown(0);
    await Promise.all(workers.map((w) => w.close()));
  });

  it('Hermes/Qwen3: tools → tool_calls (reasoning split off) → tool result → final answer', async () => {
    const messages: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = [{ role: 'user', content: 'What is the weather in Paris?' }];
    const first = await client.chat.completions.create({ model: 'qwen3-mock', messages, tools });
    const choice = first.choices[0];
    expect(choice.finish_reason).toBe('tool_calls');
    expect((choice.message as unknown as { reasoning_content: string }).reasoning_content.trim()).toBe('The user wants the weather.');
    const call = choice.message.tool_calls![0] as OpenAI.Chat.Completions.ChatCompletionMessageFunctionToolCall;
    expect(call.id).toMatch(/^call_/);
    expect(call.function.name).toBe('get_weather');
    expect(JSON.parse(call.function.arguments)).toEqual({ city: 'Paris' });
    messages.push(choice.message, { role: 'tool', tool_call_id: call.id, content: 'sunny, 21C' });
    const second = await client.chat.completions.create({ model: 'qwen3-mock', messages, tools });
    expect(second.choices[0].message.content).toBe('It is sunny in Paris, 21C.');
    expect(second.choices[0].finish_reason).toBe('stop');
  });

  it('Hermes/Qwen3 streaming: parallel calls arrive as indexed deltas (id and name first, then argument fragments)', async () => {
    const stream = await client.chat.completions.create({ model: 'qwen3-mock', messages: [{ role: 'user', content: 'Weather in Paris and Oslo?' }], tools, stream: true });
    const calls: { id?: string; name?: string; args: string }[] = [];
    let finish: string | null = null;
    for await (const chunk of stream) {
      const c = chunk.choices[0];
      if (!c) continue;
      for (const d of c.delta.tool_calls ?? []) {
        calls[d.index] ??= { args: '' };
        if (d.id) calls[d.index].id = d.id;
        if (d.function?.name) calls[d.index].name = d.function.name;
        calls[d.index].args += d.function?.arguments ?? '';
      }
      finish = c.finish_reason ?? finish;
    }
    expect(finish).toBe('tool_calls');
    expect(calls.map((c) => [c.name, JSON.parse(c.args)])).toEqual([
      ['get_weather', { city: 'Paris' }],
      ['get_weather', { city: 'Oslo' }],
    ]);
    expect(calls[0].id).not.toBe(calls[1].id);
  });

  it('text that merely mentions the marker stays text; without tools nothing is parsed', async () => {
    const r = await client.chat.completions.create({ model: 'qwen3-mock', messages: [{ role: 'user', content: 'Some prose please' }], tools });
    expect(r.choices[0].message.content).toBe('Write <tool_call> tags to call a tool.');
    expect(r.choices[0].message.tool_calls ?? []).toEqual([]);
    expect(r.choices[0].finish_reason).toBe('stop');
  });

  it('DeepSeek V3: special-token tool calls become tool_calls', async () => {
    const r = await client.chat.completions.create({ model: 'deepseek-v3-mock', messages: [{ role: 'user', content: 'What is the weather in Paris?' }], tools });
    expect(r.choices[0].finish_reason).toBe('tool_calls');
    const call = r.choices[0].message.tool_calls![0] as OpenAI.Chat.Completions.ChatCompletionMessageFunctionToolCall;
    expect(call.function.name).toBe('get_weather');
    expect(JSON.parse(call.function.arguments)).toEqual({ city: 'Paris' });
  });

  it('tool_choice required / named are enforced through the engine constraint; bad tool_choice is a 400', async () => {
    const required = await client.chat.completions.create({ model: 'qwen3-mock', messages: [{ role: 'user', content: 'Anything at all' }], tools, tool_choice: 'required' });
    expect(required.choices[0].finish_reason).toBe('tool_calls');
    expect(required.choices[0].message.tool_calls![0]).toMatchObject({ function: { name: 'get_weather' } });
    const named = await client.chat.completions.create({ model: 'qwen3-mock', messages: [{ role: 'user', content: 'Anything at all' }], tools, tool_choice: { type: 'function', function: { name: 'get_weather' } } });
    expect(named.choices[0].message.tool_calls![0]).toMatchObject({ function: { name: 'get_weather' } });
    expect(JSON.parse((named.choices[0].message.tool_calls![0] as OpenAI.Chat.Completions.ChatCompletionMessageFunctionToolCall).function.arguments)).toEqual({ city: '' });
    await expect(client.chat.completions.create({ model: 'qwen3-mock', messages: [{ role: 'user', content: 'x' }], tools, tool_choice: { type: 'function', function: { name: 'nope' } } })).rejects.toMatchObject({ status: 400 });
    await expect(client.chat.completions.create({ model: 'qwen3-mock', messages: [{ role: 'user', content: 'x' }], tool_choice: 'required' })).rejects.toMatchObject({ status: 400 });
  });
});
