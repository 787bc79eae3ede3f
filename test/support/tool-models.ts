import { startMockWorker } from '@drover/mock-worker';
import { startGateway, type RunningGateway } from '../../src/gateway';
import { testConfig } from './config';
import { gptOssModelDir, lenmlModelDir } from './model-dirs';

type MockWorker = Awaited<ReturnType<typeof startMockWorker>>;

/** What every scripted model answers: a weather question → one call; the tool's result → the answer. */
export const ASK = 'What is the weather in Paris?';
export const TOOL_RESULT = 'sunny, 21C';
export const ANSWER = 'It is sunny in Paris, 21C.';

/**
 * One mock model per tool-call parser family, each writing the call in its own format (served
 * with a tokenizer of its family where a package exists; Mistral's text format needs none).
 */
export const FAMILIES = [
  { model: 'qwen3-mock', family: 'Hermes/Qwen3', tokenizerDir: undefined, call: '<think>\nThe user wants the weather.\n</think>\n\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>', answer: ANSWER },
  { model: 'llama-3.1-mock', family: 'Llama 3 JSON', tokenizerDir: () => lenmlModelDir('llama3_1'), call: '<|python_tag|>{"name": "get_weather", "parameters": {"city": "Paris"}}', answer: ANSWER },
  { model: 'mistral-mock', family: 'Mistral', tokenizerDir: undefined, call: '[TOOL_CALLS][{"name": "get_weather", "arguments": {"city": "Paris"}}]', answer: ANSWER },
  { model: 'deepseek-v3-mock', family: 'DeepSeek V3', tokenizerDir: () => lenmlModelDir('deepseek_v3'), call: '<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{"city": "Paris"}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>', answer: ANSWER },
  { model: 'llama-4-mock', family: 'pythonic', tokenizerDir: () => lenmlModelDir('llama3_1'), call: '[get_weather(city="Paris")]', answer: ANSWER },
  {
    model: 'gpt-oss-mock',
    family: 'GPT-OSS harmony',
    tokenizerDir: gptOssModelDir,
    call: '<|channel|>analysis<|message|>Need the weather tool.<|end|><|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{"city": "Paris"}<|call|>',
    answer: `<|channel|>analysis<|message|>The tool answered.<|end|><|start|>assistant<|channel|>final<|message|>${ANSWER}`,
  },
] as const;

export type FamilyModel = (typeof FAMILIES)[number]['model'];

export interface ToolModels {
  gateway: RunningGateway;
  close(): Promise<void>;
}

/** A gateway in front of one scripted mock worker per family in `models`. */
export async function startToolModels(models: readonly FamilyModel[]): Promise<ToolModels> {
  const workers: MockWorker[] = [];
  for (const f of FAMILIES.filter((x) => models.includes(x.model))) {
    workers.push(
      await startMockWorker({
        port: 0,
        model: f.model,
        tokenizerDir: f.tokenizerDir?.(),
        replies: [
          { match: TOOL_RESULT, reply: f.answer },
          { match: 'weather in Paris', reply: f.call },
        ],
      }),
    );
  }
  const gateway = await startGateway(testConfig({ workerUrls: workers.map((w) => w.url) }));
  return {
    gateway,
    async close() {
      await gateway.shutdown(0);
      await Promise.all(workers.map((w) => w.close()));
    },
  };
}
