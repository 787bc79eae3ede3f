import { startMockWorker } from '@drover/mock-worker';
import { startGateway, type RunningGateway } from '../../src/gateway';
import { TEST_API_KEY } from './auth';
import { waitFor } from './cluster';
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

/** The scripted tool call of a family's model (the reply to a weather question). */
export const callOf = (model: FamilyModel): string => FAMILIES.find((f) => f.model === model)!.call;

/** Two calls in one Hermes/Qwen3 answer (parallel tool calls). */
export const PARALLEL_CALLS = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Oslo"}}\n</tool_call>';

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
  // Each model's tokenizer arrives from its worker (GetTokenizer) and is parsed at start: wait for
  // all of them here (a 503 while a worker is still sending its files), so that the SDKs' request
  // timeouts measure requests, not model loading.
  const headers = { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' };
  for (const model of models) {
    await waitFor(
      async () => {
        const res = await fetch(`${gateway.url}/v1/tokenize`, { method: 'POST', headers, body: JSON.stringify({ model, messages: [{ role: 'user', content: 'warm-up' }] }) });
        if (res.status !== 200 && res.status !== 503) throw new Error(`warm-up of ${model}: HTTP ${res.status} ${await res.text()}`);
        return res.status === 200;
      },
      120_000,
      `the files of ${model}`,
    );
  }
  // Every model is tokenized with its own files, never the default ones.
  const listed = (await (await fetch(`${gateway.url}/v1/models`, { headers })).json()) as { data: { id: string; capabilities?: { tokenizer?: { source?: string } } }[] };
  for (const model of models) {
    const source = listed.data.find((m) => m.id === model)?.capabilities?.tokenizer?.source;
    if (source !== 'worker') throw new Error(`${model}: tokenizer source ${source}, expected worker`);
  }
  return {
    gateway,
    async close() {
      await gateway.shutdown(0);
      await Promise.all(workers.map((w) => w.close()));
    },
  };
}
