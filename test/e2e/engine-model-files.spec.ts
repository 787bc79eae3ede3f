import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { lenmlModelDir } from '../support/model-dirs';
import { ADMIN } from '../support/auth';
import { startCluster, waitFor, type TestCluster } from '../support/cluster';

const REPLY = 'Hello there my good friend';

/**
 * What SGLang's model info leaves at defaults (no EOS ids, supports_vision false) comes from the
 * model's own files (its bundle), so the gateway behaves as it does against vLLM, which fills them.
 */
describe.each(['sglang', 'vllm'] as const)('model files fill what the %s personality leaves out', (engine) => {
  let c: TestCluster | undefined;
  afterEach(async () => {
    await c?.close();
    c = undefined;
  });

  it('the gateway stops on the model EOS: no end-of-turn text with special tokens kept, no logprob for it, streamed or not', async () => {
    c = await startCluster({ workers: 1, worker: { engine, replies: [{ match: 'greet me', reply: REPLY }] } });
    const body = { model: 'qwen3-mock', messages: [{ role: 'user' as const, content: 'Please greet me.' }], max_tokens: 40, skip_special_tokens: false, logprobs: true };
    const r = await c.client.chat.completions.create(body as never as { model: string; messages: { role: 'user'; content: string }[]; stream?: false });
    expect(r.choices[0].message.content).toBe(REPLY);
    expect(r.choices[0].finish_reason).toBe('stop');
    expect(r.choices[0].logprobs!.content!.map((t) => t.token).join('')).toBe(REPLY);
    const stream = await c.client.chat.completions.create({ ...(body as object), stream: true } as never as { model: string; messages: { role: 'user'; content: string }[]; stream: true });
    let text = '';
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(text).toBe(REPLY);
    expect(finish).toBe('stop');
  });
});

describe('model files decide vision for the sglang personality (its supports_vision is always false)', () => {
  let dir: string;
  let c: TestCluster | undefined;
  beforeAll(() => {
    // A Qwen3 tokenizer with a config.json that describes a vision tower.
    dir = mkdtempSync(join(tmpdir(), 'drover-vl-'));
    for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(lenmlModelDir('qwen3'), f), join(dir, f));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ architectures: ['Qwen2_5_VLForConditionalGeneration'], max_position_embeddings: 32768, vision_config: { depth: 32, patch_size: 14, spatial_merge_size: 2 } }));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(async () => {
    await c?.close();
    c = undefined;
  });

  const capabilities = async (url: string) => ((await (await fetch(`${url}/v1/models`, { headers: ADMIN })).json()) as { data: { capabilities: { vision: boolean } }[] }).data[0]?.capabilities;
  const imageChat = async (url: string) => {
    const png = await sharp({ create: { width: 56, height: 56, channels: 3, background: { r: 200, g: 10, b: 10 } } }).png().toBuffer();
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...ADMIN, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'qwen3-mock', max_tokens: 4, messages: [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${png.toString('base64')}` } }] }] }),
    });
    return res.status;
  };

  it('a vision model (vision_config in its config.json) takes images and says so in /v1/models', async () => {
    c = await startCluster({ workers: 1, worker: { engine: 'sglang', vision: true, tokenizerDir: dir } });
    await waitFor(async () => (await capabilities(c!.gateway.url))?.vision === true, 10_000, 'the model files to arrive');
    expect(await imageChat(c.gateway.url)).toBe(200);
  });

  it('a text model (no vision_config) still refuses images', async () => {
    c = await startCluster({ workers: 1, worker: { engine: 'sglang' } });
    await waitFor(async () => (await capabilities(c!.gateway.url)) !== undefined, 10_000, 'the model');
    expect((await capabilities(c.gateway.url))?.vision).toBe(false);
    expect(await imageChat(c.gateway.url)).toBe(400);
  });
});
