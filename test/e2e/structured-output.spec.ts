import { startMockWorker } from '@drover/mock-worker';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../src/gateway';
import { CLIENT } from '../support/auth';
import { testConfig } from '../support/config';

type MockWorker = Awaited<ReturnType<typeof startMockWorker>>;

const schema = {
  type: 'object',
  properties: { city: { type: 'string', minLength: 2 }, population: { type: 'integer', minimum: 1 }, tags: { type: 'array', items: { type: 'string' } } },
  required: ['city', 'population'],
};

describe('structured output and logprobs, on both engine contracts', () => {
  const workers: MockWorker[] = [];
  let gateway: RunningGateway;
  let client: OpenAI;

  beforeAll(async () => {
    workers.push(await startMockWorker({ port: 0, model: 'qwen3-sglang' }));
    workers.push(await startMockWorker({ port: 0, model: 'qwen3-vllm', protocol: 'vllm' }));
    gateway = await startGateway(testConfig({ workerUrls: workers.map((w) => w.url) }));
    client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'test', maxRetries: 0, timeout: 30_000 });
  }, 60_000);
  afterAll(async () => {
    await gateway?.shutdown(0);
    await Promise.all(workers.map((w) => w.close()));
  });

  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${gateway.url}${path}`, { method: 'POST', headers: { ...CLIENT, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as any };
  };
  const messages = [{ role: 'user' as const, content: 'Name a city.' }];
  // Only vLLM's contract carries a seed (a seed for an SGLang-served model is a 400).
  const seedFor = (model: string) => (model === 'qwen3-vllm' ? { seed: 1 } : {});

  for (const model of ['qwen3-sglang', 'qwen3-vllm']) {
    it(`${model}: response_format json_schema reaches the engine as its constraint, and the answer satisfies it`, async () => {
      const r = await client.chat.completions.create({ model, messages, response_format: { type: 'json_schema', json_schema: { name: 'city', schema } } });
      const value = JSON.parse(r.choices[0].message.content!);
      expect(value).toEqual({ city: 'xx', population: 1 });
      const o = await client.chat.completions.create({ model, messages, response_format: { type: 'json_object' } });
      expect(JSON.parse(o.choices[0].message.content!)).toEqual({});
    });

    it(`${model}: a constraint the engine refuses is a 400 with the engine's reason`, async () => {
      const bad = await post('/v1/chat/completions', { model, messages, response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'sphere' } } } });
      expect(bad.status).toBe(400);
      expect(bad.body.error.message).toMatch(/unknown type "sphere"/);
      const regex = await post('/v1/chat/completions', { model, messages, regex: '([a-z' });
      expect(regex.status).toBe(400);
      expect(regex.body.error.message).toMatch(/invalid regex/);
      const grammar = await post('/v1/chat/completions', { model, messages, ebnf: 'answer ::= "yes"' });
      expect(grammar.status).toBe(400);
      expect(grammar.body.error.message).toMatch(/root ::=/);
    });

    it(`${model}: chat logprobs and top_logprobs come from the engine, token by token, streaming and not`, async () => {
      const r = await client.chat.completions.create({ model, messages, max_tokens: 8, logprobs: true, top_logprobs: 3, ...seedFor(model) });
      const content = r.choices[0].logprobs!.content!;
      expect(content).toHaveLength(r.usage!.completion_tokens);
      expect(content.map((t) => t.token).join('')).toBe(r.choices[0].message.content);
      for (const t of content) {
        expect(t.logprob).toBeLessThan(0);
        expect(t.top_logprobs).toHaveLength(3);
        expect(t.top_logprobs[0]).toMatchObject({ token: t.token, logprob: t.logprob });
        expect(t.bytes).toEqual([...Buffer.from(t.token)]);
      }
      const stream = await client.chat.completions.create({ model, messages, max_tokens: 8, logprobs: true, ...seedFor(model), stream: true });
      let text = '';
      const tokens: string[] = [];
      for await (const chunk of stream) {
        const c = chunk.choices[0];
        if (!c) continue;
        text += c.delta.content ?? '';
        for (const t of c.logprobs?.content ?? []) {
          tokens.push(t.token);
          expect(t.top_logprobs).toEqual([]);
        }
      }
      expect(tokens.join('')).toBe(text);
      expect(text).toBe(r.choices[0].message.content);
      const plain = await client.chat.completions.create({ model, messages, max_tokens: 4 });
      expect(plain.choices[0].logprobs).toBeNull();
    });
  }

  it('refuses two constraints at once, a schema that is not an object, and top_logprobs without logprobs', async () => {
    const two = await post('/v1/chat/completions', { model: 'qwen3-sglang', messages, response_format: { type: 'json_object' }, regex: '[a-z]+' });
    expect(two.status).toBe(400);
    expect(two.body.error).toMatchObject({ param: 'regex', message: expect.stringMatching(/Only one structured-output constraint/) });
    const notObject = await post('/v1/chat/completions', { model: 'qwen3-sglang', messages, response_format: { type: 'json_schema', json_schema: { name: 'x', schema: 5 } } });
    expect(notObject.status).toBe(400);
    expect(notObject.body.error.param).toBe('response_format.json_schema.schema');
    const top = await post('/v1/chat/completions', { model: 'qwen3-sglang', messages, top_logprobs: 2 });
    expect(top.status).toBe(400);
    expect(top.body.error.param).toBe('top_logprobs');
  });

  it('completions: logprobs N gives tokens, their logprobs, N alternatives and text offsets', async () => {
    const r = await client.completions.create({ model: 'qwen3-vllm', prompt: 'Once upon a time', max_tokens: 6, logprobs: 2, seed: 3 });
    const lp = r.choices[0].logprobs!;
    expect(lp.tokens!.join('')).toBe(r.choices[0].text);
    expect(lp.token_logprobs).toHaveLength(lp.tokens!.length);
    expect(Object.keys(lp.top_logprobs![0])).toHaveLength(2);
    expect(lp.text_offset![0]).toBe(0);
    expect(lp.text_offset![1]).toBe(lp.tokens![0].length);
  });

  it('Responses: text.format json_schema constrains the output; top_logprobs fills output_text logprobs', async () => {
    const res = await post('/v1/responses', { model: 'qwen3-sglang', input: 'Name a city.', text: { format: { type: 'json_schema', name: 'city', schema } }, top_logprobs: 2 });
    expect(res.status).toBe(200);
    const part = res.body.output[0].content[0];
    expect(JSON.parse(part.text)).toEqual({ city: 'xx', population: 1 });
    expect(part.logprobs.map((t: any) => t.token).join('')).toBe(part.text);
    expect(part.logprobs[0].top_logprobs).toHaveLength(2);
    expect(res.body.text.format.type).toBe('json_schema');
  });
});
