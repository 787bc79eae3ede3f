import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_API_KEY } from '../support/auth';
import { ANSWER, ASK, FAMILIES, TOOL_RESULT, startToolModels, type ToolModels } from '../support/tool-models';

const parameters = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };

/**
 * The tool loop (call → result → answer) of every parser family through the three API shapes the
 * official SDKs speak: chat completions, Anthropic Messages and Responses, streaming and not.
 */
describe('every parser family through the openai and Anthropic SDKs, streaming and not', () => {
  let fleet: ToolModels;
  let openai: OpenAI;
  let anthropic: Anthropic;

  beforeAll(async () => {
    fleet = await startToolModels(FAMILIES.map((f) => f.model));
    openai = new OpenAI({ baseURL: `${fleet.gateway.url}/v1`, apiKey: TEST_API_KEY, maxRetries: 0, timeout: 30_000 });
    anthropic = new Anthropic({ baseURL: fleet.gateway.url, apiKey: TEST_API_KEY, maxRetries: 0, timeout: 30_000 });
  }, 180_000);
  afterAll(async () => fleet?.close());

  for (const { model, family } of FAMILIES) {
    for (const stream of [false, true]) {
      const how = stream ? 'streaming' : 'not streaming';

      it(`${family}, chat completions, ${how}`, async () => {
        const tools: OpenAI.Chat.Completions.ChatCompletionTool[] = [{ type: 'function', function: { name: 'get_weather', parameters } }];
        const messages: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = [{ role: 'user', content: ASK }];
        let call: { id: string; name: string; args: string };
        if (stream) {
          const s = await openai.chat.completions.create({ model, messages, tools, stream: true });
          call = { id: '', name: '', args: '' };
          let finish: string | null = null;
          for await (const chunk of s) {
            for (const d of chunk.choices[0]?.delta.tool_calls ?? []) {
              call.id ||= d.id ?? '';
              call.name ||= d.function?.name ?? '';
              call.args += d.function?.arguments ?? '';
            }
            finish = chunk.choices[0]?.finish_reason ?? finish;
          }
          expect(finish).toBe('tool_calls');
        } else {
          const r = await openai.chat.completions.create({ model, messages, tools });
          expect(r.choices[0].finish_reason).toBe('tool_calls');
          const c = r.choices[0].message.tool_calls![0] as OpenAI.Chat.Completions.ChatCompletionMessageFunctionToolCall;
          call = { id: c.id, name: c.function.name, args: c.function.arguments };
        }
        expect([call.name, JSON.parse(call.args)]).toEqual(['get_weather', { city: 'Paris' }]);
        messages.push({ role: 'assistant', content: null, tool_calls: [{ id: call.id, type: 'function', function: { name: call.name, arguments: call.args } }] }, { role: 'tool', tool_call_id: call.id, content: TOOL_RESULT });
        const answer = await openai.chat.completions.create({ model, messages, tools });
        expect(answer.choices[0].message.content).toBe(ANSWER);
      });

      it(`${family}, Anthropic Messages, ${how}`, async () => {
        const tools: Anthropic.Tool[] = [{ name: 'get_weather', input_schema: parameters as Anthropic.Tool.InputSchema }];
        const messages: Anthropic.MessageParam[] = [{ role: 'user', content: ASK }];
        const first = stream ? await anthropic.messages.stream({ model, max_tokens: 256, messages, tools }).finalMessage() : await anthropic.messages.create({ model, max_tokens: 256, messages, tools });
        expect(first.stop_reason).toBe('tool_use');
        const use = first.content.find((b) => b.type === 'tool_use') as Anthropic.ToolUseBlock;
        expect([use.name, use.input]).toEqual(['get_weather', { city: 'Paris' }]);
        messages.push({ role: 'assistant', content: first.content }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: TOOL_RESULT }] });
        const second = await anthropic.messages.create({ model, max_tokens: 256, messages, tools });
        expect(second.content.filter((b) => b.type === 'text').map((b) => (b as Anthropic.TextBlock).text)).toEqual([ANSWER]);
      });

      it(`${family}, Responses, ${how}`, async () => {
        const tools: OpenAI.Responses.FunctionTool[] = [{ type: 'function', name: 'get_weather', parameters, strict: false }];
        const input: OpenAI.Responses.ResponseInput = [{ role: 'user', content: ASK }];
        let output: OpenAI.Responses.ResponseOutputItem[];
        if (stream) {
          const s = await openai.responses.create({ model, input, tools, store: false, stream: true });
          output = [];
          for await (const e of s) if (e.type === 'response.completed') output = e.response.output;
        } else output = (await openai.responses.create({ model, input, tools, store: false })).output;
        const call = output.find((o) => o.type === 'function_call') as OpenAI.Responses.ResponseFunctionToolCall;
        expect([call.name, JSON.parse(call.arguments)]).toEqual(['get_weather', { city: 'Paris' }]);
        input.push(...(output as OpenAI.Responses.ResponseInputItem[]), { type: 'function_call_output', call_id: call.call_id, output: TOOL_RESULT });
        const second = await openai.responses.create({ model, input, tools, store: false });
        expect(second.output_text).toBe(ANSWER);
      });
    }
  }
});
