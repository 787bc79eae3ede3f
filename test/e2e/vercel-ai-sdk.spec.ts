import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { generateText, jsonSchema, stepCountIs, streamText, tool } from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_API_KEY } from '../support/auth';
import { ANSWER, ASK, FAMILIES, TOOL_RESULT, startToolModels, type ToolModels } from '../support/tool-models';

/** The Vercel AI SDK's tool loop (call → execute → result → answer) against the gateway, per parser family. */
describe('Vercel AI SDK (ai + @ai-sdk/openai-compatible) with tools, scripted mock replies', () => {
  const models = FAMILIES.map((f) => f.model);
  let fleet: ToolModels;
  let provider: ReturnType<typeof createOpenAICompatible>;
  const executed: unknown[] = [];
  const tools = {
    get_weather: tool({
      description: 'Weather in a city',
      inputSchema: jsonSchema<{ city: string }>({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }),
      execute: async (input) => {
        executed.push(input);
        return TOOL_RESULT;
      },
    }),
  };

  beforeAll(async () => {
    fleet = await startToolModels(models);
    provider = createOpenAICompatible({ name: 'drover', baseURL: `${fleet.gateway.url}/v1`, apiKey: TEST_API_KEY });
  }, 180_000);
  afterAll(async () => fleet?.close());

  for (const model of models) {
    const family = FAMILIES.find((f) => f.model === model)!.family;

    it(`${family}: generateText runs the tool and answers with its result`, async () => {
      executed.length = 0;
      const r = await generateText({ model: provider(model), prompt: ASK, tools, stopWhen: stepCountIs(3), maxRetries: 0 });
      expect(executed).toEqual([{ city: 'Paris' }]);
      expect(r.steps[0].finishReason).toBe('tool-calls');
      expect(r.steps[0].toolCalls.map((c) => [c.toolName, c.input])).toEqual([['get_weather', { city: 'Paris' }]]);
      expect(r.text).toBe(ANSWER);
    });

    it(`${family}: streamText streams the call and the answer`, async () => {
      executed.length = 0;
      const r = streamText({ model: provider(model), prompt: ASK, tools, stopWhen: stepCountIs(3), maxRetries: 0 });
      const types = new Set<string>();
      for await (const part of r.fullStream) {
        types.add(part.type);
        if (part.type === 'error') throw part.error as Error;
      }
      expect(types).toContain('tool-call');
      expect(types).toContain('tool-result');
      expect(executed).toEqual([{ city: 'Paris' }]);
      expect(await r.text).toBe(ANSWER);
    });
  }

  it('Qwen3 reasoning arrives as the SDK reasoning', async () => {
    const r = await generateText({ model: provider('qwen3-mock'), prompt: ASK, tools, maxRetries: 0 });
    expect(r.reasoningText?.trim()).toBe('The user wants the weather.');
  });
});
