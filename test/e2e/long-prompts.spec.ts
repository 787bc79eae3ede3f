import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tokenizer } from '@drover/tokenizer';
import { CLIENT } from '../support/auth';
import { startCluster, type TestCluster } from '../support/cluster';
import { E2E_ENGINES } from '../support/engines';
import { TokenizerService } from '../../src/tokenizer/tokenizer.service';

// Long prompts are rendered and tokenized on the gateway's worker threads: the engine must see
// exactly the ids the inline path would give, and the node must keep serving meanwhile.
describe.each(E2E_ENGINES)('gateway: long prompts on the tokenizer threads (%s engine)', (engine) => {
  let c: TestCluster;
  let inline: Tokenizer;
  beforeAll(async () => {
    c = await startCluster({ workers: 1, worker: { engine }, gateway: { tokenizerThreads: 2, tokenizerOffloadChars: 2000 } });
    inline = await Tokenizer.load();
    // Long prompts run inline until a thread has the tokenizer built: wait, so these tests prove the threads.
    await c.gateway.app.get(TokenizerService).warmThreads();
  });
  const threadEncodes = () => c.gateway.app.get(TokenizerService).threadEncodes;
  afterAll(async () => c?.close());

  const longText = (seed: number) => Array.from({ length: 900 }, (_, i) => `word${(i * 7919 + seed) % 613}`).join(' ');

  it('gives the engine the same prompt ids as the inline tokenizer (usage and /v1/tokenize agree)', async () => {
    const client = new OpenAI({ baseURL: `${c.gateway.url}/v1`, apiKey: 'test' });
    const messages = [{ role: 'system' as const, content: 'Be brief.' }, { role: 'user' as const, content: longText(1) }];
    const expected = await inline.encodeChat(messages, { addGenerationPrompt: true });
    expect(longText(1).length).toBeGreaterThan(2000);
    const before = threadEncodes();
    const res = await client.chat.completions.create({ model: 'qwen3-mock', messages, max_tokens: 4 });
    expect(res.usage?.prompt_tokens).toBe(expected.ids.length);
    expect(threadEncodes()).toBeGreaterThan(before);
    const tok = await fetch(`${c.gateway.url}/v1/tokenize`, { method: 'POST', headers: { ...CLIENT, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'qwen3-mock', messages }) });
    expect(((await tok.json()) as { tokens: number[] }).tokens).toEqual(expected.ids);
  });

  it('serves many long and short prompts at once, each with its own usage', async () => {
    const client = new OpenAI({ baseURL: `${c.gateway.url}/v1`, apiKey: 'test' });
    const inputs = Array.from({ length: 12 }, (_, i) => (i % 3 === 0 ? `short ${i}` : longText(100 + i)));
    const before = threadEncodes();
    const results = await Promise.all(inputs.map((content) => client.chat.completions.create({ model: 'qwen3-mock', messages: [{ role: 'user', content }], max_tokens: 2 })));
    for (let i = 0; i < inputs.length; i++) {
      const { ids } = await inline.encodeChat([{ role: 'user', content: inputs[i] }], { addGenerationPrompt: true });
      expect(results[i].usage?.prompt_tokens).toBe(ids.length);
    }
    // The eight long prompts went to the threads (the four short ones stay inline).
    expect(threadEncodes() - before).toBeGreaterThanOrEqual(8);
  });
});
