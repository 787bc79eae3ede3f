import { AIMessageChunk, HumanMessage, ToolMessage, type BaseMessage } from '@langchain/core/messages';
import { ChatOpenAI } from '@langchain/openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_API_KEY } from '../support/auth';
import { ANSWER, ASK, FAMILIES, TOOL_RESULT, startToolModels, type ToolModels } from '../support/tool-models';

const weatherTool = {
  type: 'function' as const,
  function: { name: 'get_weather', description: 'Weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};

/** LangChain's ChatOpenAI.bindTools loop against the gateway, per parser family, invoke and stream. */
describe("LangChain (@langchain/openai ChatOpenAI.bindTools), scripted mock replies", () => {
  const models = FAMILIES.map((f) => f.model);
  let fleet: ToolModels;
  const chat = (model: string) => new ChatOpenAI({ model, apiKey: TEST_API_KEY, configuration: { baseURL: `${fleet.gateway.url}/v1` }, maxRetries: 0, temperature: 0 }).bindTools([weatherTool]);

  beforeAll(async () => {
    fleet = await startToolModels(models);
  }, 180_000);
  afterAll(async () => fleet?.close());

  for (const model of models) {
    const family = FAMILIES.find((f) => f.model === model)!.family;

    it(`${family}: invoke → tool_calls → ToolMessage → answer`, async () => {
      const llm = chat(model);
      const messages: BaseMessage[] = [new HumanMessage(ASK)];
      const first = await llm.invoke(messages);
      expect(first.tool_calls?.map((c) => [c.name, c.args])).toEqual([['get_weather', { city: 'Paris' }]]);
      const id = first.tool_calls![0].id!;
      expect(id).toMatch(/^call_/);
      messages.push(first, new ToolMessage({ tool_call_id: id, content: TOOL_RESULT }));
      const second = await llm.invoke(messages);
      expect(second.tool_calls ?? []).toEqual([]);
      expect(second.content).toBe(ANSWER);
    });

    it(`${family}: stream → chunks concatenate into the tool call`, async () => {
      let all: AIMessageChunk | undefined;
      for await (const chunk of await chat(model).stream([new HumanMessage(ASK)])) all = all ? all.concat(chunk) : chunk;
      expect(all!.tool_calls?.map((c) => [c.name, c.args])).toEqual([['get_weather', { city: 'Paris' }]]);
      expect(all!.tool_call_chunks!.length).toBeGreaterThan(0);
    });
  }
});
