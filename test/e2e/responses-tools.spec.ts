import { startMockWorker } from '@drover/mock-worker';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../src/gateway';
import { TEST_API_KEY } from '../support/auth';
import { testConfig } from '../support/config';
import { callOf, PARALLEL_CALLS } from '../support/tool-models';
import { lenmlModelDir } from '../support/model-dirs';

type MockWorker = Awaited<ReturnType<typeof startMockWorker>>;

const tools: OpenAI.Responses.FunctionTool[] = [
  { type: 'function', name: 'get_weather', description: 'Weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }, strict: false },
];

describe('Responses: function_call, function_call_output and reasoning items through the model parsers (openai SDK, scripted mock replies)', () => {
  const workers: MockWorker[] = [];
  let gateway: RunningGateway;
  let client: OpenAI;

  beforeAll(async () => {
    workers.push(
      await startMockWorker({
        port: 0,
        model: 'qwen3-mock',
        replies: [
          { match: 'sunny, 21C', reply: 'It is sunny in Paris, 21C.' },
          { match: 'weather in Paris', reply: callOf('qwen3-mock') },
          { match: 'Paris and Oslo', reply: PARALLEL_CALLS },
        ],
      }),
    );
    workers.push(
      await startMockWorker({
        port: 0,
        model: 'deepseek-v3-mock',
        tokenizerDir: lenmlModelDir('deepseek_v3'),
        replies: [
          { match: 'cloudy, 12C', reply: 'Cloudy in Paris, 12C.' },
          { match: 'weather in Paris', reply: callOf('deepseek-v3-mock') },
        ],
      }),
    );
    gateway = await startGateway(testConfig({ workerUrls: workers.map((w) => w.url) }));
    client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: TEST_API_KEY, maxRetries: 0, timeout: 30_000 });
  }, 60_000);
  afterAll(async () => {
    await gateway?.shutdown(0);
    await Promise.all(workers.map((w) => w.close()));
  });

  it('Hermes/Qwen3: reasoning + function_call items → function_call_output (input items) → final answer', async () => {
    const input: OpenAI.Responses.ResponseInput = [{ role: 'user', content: 'What is the weather in Paris?' }];
    const first = await client.responses.create({ model: 'qwen3-mock', input, tools, store: false });
    expect(first.output.map((o) => o.type)).toEqual(['reasoning', 'function_call']);
    const reasoning = first.output[0] as OpenAI.Responses.ResponseReasoningItem;
    expect(reasoning.content?.[0].text.trim()).toBe('The user wants the weather.');
    const call = first.output[1] as OpenAI.Responses.ResponseFunctionToolCall;
    expect(call.call_id).toMatch(/^call_/);
    expect(call.name).toBe('get_weather');
    expect(JSON.parse(call.arguments)).toEqual({ city: 'Paris' });
    input.push(...(first.output as OpenAI.Responses.ResponseInputItem[]), { type: 'function_call_output', call_id: call.call_id, output: 'sunny, 21C' });
    const second = await client.responses.create({ model: 'qwen3-mock', input, tools, store: false });
    expect(second.status).toBe('completed');
    expect(second.output_text).toBe('It is sunny in Paris, 21C.');
    expect(second.output.map((o) => o.type)).toEqual(['message']);
  });

  it('previous_response_id carries the stored call: only the function_call_output is sent', async () => {
    const first = await client.responses.create({ model: 'deepseek-v3-mock', input: 'What is the weather in Paris?', tools });
    const call = first.output.find((o) => o.type === 'function_call') as OpenAI.Responses.ResponseFunctionToolCall;
    expect(JSON.parse(call.arguments)).toEqual({ city: 'Paris' });
    const second = await client.responses.create({ model: 'deepseek-v3-mock', previous_response_id: first.id, input: [{ type: 'function_call_output', call_id: call.call_id, output: 'cloudy, 12C' }], tools });
    expect(second.output_text).toBe('Cloudy in Paris, 12C.');
  });

  it('streaming: parallel function_call items with argument deltas, each added and done in order', async () => {
    const stream = await client.responses.create({ model: 'qwen3-mock', input: 'Weather in Paris and Oslo?', tools, stream: true });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const e of stream) events.push(e);
    const done = events.find((e) => e.type === 'response.completed') as OpenAI.Responses.ResponseCompletedEvent;
    const calls = done.response.output.filter((o) => o.type === 'function_call');
    expect(calls.map((c) => JSON.parse(c.arguments))).toEqual([{ city: 'Paris' }, { city: 'Oslo' }]);
    expect(calls[0].call_id).not.toBe(calls[1].call_id);
    // Argument deltas of each item add up to its arguments; items open and close one at a time.
    for (const [i, c] of calls.entries()) {
      const args = events
        .filter((e): e is OpenAI.Responses.ResponseFunctionCallArgumentsDeltaEvent => e.type === 'response.function_call_arguments.delta' && e.output_index === i)
        .map((e) => e.delta)
        .join('');
      expect(args).toBe(c.arguments);
    }
    const order = events.filter((e) => e.type === 'response.output_item.added' || e.type === 'response.output_item.done').map((e) => `${e.type.slice(21)}:${(e as { output_index: number }).output_index}`);
    expect(order).toEqual(['added:0', 'done:0', 'added:1', 'done:1']);
    const numbers = events.map((e) => e.sequence_number);
    expect(numbers).toEqual(numbers.map((_, i) => i));
  });

  it('streaming reasoning: reasoning_text deltas, then the call', async () => {
    const stream = await client.responses.create({ model: 'qwen3-mock', input: 'What is the weather in Paris?', tools, stream: true });
    const types: string[] = [];
    let reasoning = '';
    let final: OpenAI.Responses.Response | undefined;
    for await (const e of stream) {
      types.push(e.type);
      if (e.type === 'response.reasoning_text.delta') reasoning += e.delta;
      if (e.type === 'response.completed') final = e.response;
    }
    expect(reasoning.trim()).toBe('The user wants the weather.');
    expect(types.indexOf('response.function_call_arguments.delta')).toBeGreaterThan(types.lastIndexOf('response.reasoning_text.delta'));
    expect(final!.output.map((o) => o.type)).toEqual(['reasoning', 'function_call']);
  });

  it('tool_choice required / named go to the engine constraint; non-function tools are a 400', async () => {
    const required = await client.responses.create({ model: 'qwen3-mock', input: 'Anything at all', tools, tool_choice: 'required', store: false });
    expect(required.output.find((o) => o.type === 'function_call')).toMatchObject({ name: 'get_weather' });
    const named = await client.responses.create({ model: 'qwen3-mock', input: 'Anything at all', tools, tool_choice: { type: 'function', name: 'get_weather' }, store: false });
    const namedCall = named.output.find((o) => o.type === 'function_call') as OpenAI.Responses.ResponseFunctionToolCall;
    expect(namedCall.name).toBe('get_weather');
    expect(JSON.parse(namedCall.arguments)).toEqual({ city: '' });
    await expect(client.responses.create({ model: 'qwen3-mock', input: 'x', tools: [{ type: 'web_search' } as never] })).rejects.toMatchObject({ status: 400 });
  });
});
