import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../support/cluster';
import { ADMIN } from '../support/auth';

const png = (width: number, height: number, rgb: [number, number, number]) =>
  sharp({ create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } })
    .png()
    .toBuffer();
const dataUrl = (bytes: Buffer) => `data:image/png;base64,${bytes.toString('base64')}`;

/** A user message with text, then an image. */
const withImage = (url: string, text = 'What is in this picture?') => [
  {
    role: 'user',
    content: [
      { type: 'text', text },
      { type: 'image_url', image_url: { url } },
    ],
  },
];

describe('vision: chat completions with images (Qwen2-VL preprocessing)', () => {
  let c: TestCluster;
  let red: Buffer;
  let blue: Buffer;
  let images: Server;
  let imagesUrl: string;

  beforeAll(async () => {
    c = await startCluster({ workers: 2, worker: { vision: true }, gateway: { maxImageBytes: 64 * 1024, egressAllowImages: ['127.0.0.1'] } });
    red = await png(300, 200, [220, 30, 30]);
    blue = await png(300, 200, [30, 30, 220]);
    images = createServer((req, res) => {
      if (req.url === '/red.png') res.writeHead(200, { 'content-type': 'image/png' }).end(red);
      else if (req.url === '/huge.png') res.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.alloc(100 * 1024));
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => images.listen(0, '127.0.0.1', r));
    imagesUrl = `http://127.0.0.1:${(images.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await c?.close();
    await new Promise((r) => images?.close(r));
  });

  const chat = async (messages: unknown, extra: Record<string, unknown> = {}) => {
    const res = await fetch(`${c.gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...ADMIN, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'qwen3-mock', messages, max_tokens: 4, ...extra }),
    });
    return { status: res.status, worker: res.headers.get('x-drover-worker'), body: (await res.json()) as any };
  };

  it('expands the image into its patch tokens and the engine accepts the tensors', async () => {
    const text = await chat([{ role: 'user', content: 'What is in this picture?' }]);
    const image = await chat(withImage(dataUrl(red)));
    expect(image.status, JSON.stringify(image.body)).toBe(200);
    // 300x200 → 308x196 → a 22x14 patch grid → 77 merged tokens, inside <|vision_start|>…<|vision_end|>.
    expect(image.body.usage.prompt_tokens - text.body.usage.prompt_tokens).toBe(77 + 2);
    expect(image.body.choices[0].message.content.length).toBeGreaterThan(0);
  });

  it('routes a repeated image to the worker that cached it, and a different image only shares the text before it', async () => {
    const first = await chat(withImage(dataUrl(red), 'Describe the colour.'));
    const again = await chat(withImage(dataUrl(red), 'Describe the colour.'));
    expect(again.worker).toBe(first.worker);
    const cachedAgain = again.body.usage.prompt_tokens_details.cached_tokens;
    expect(cachedAgain).toBeGreaterThan(77);
    const other = await chat(withImage(dataUrl(blue), 'Describe the colour.'));
    expect(other.status).toBe(200);
    // The same size of image expands to the same pads: only content-keyed caching keeps the blue
    // image from reusing the red one's KV blocks.
    expect(other.body.usage.prompt_tokens_details.cached_tokens).toBeLessThan(other.body.usage.prompt_tokens - 77);
  });

  it('streams with images too', async () => {
    const stream = await c.client.chat.completions.create({ model: 'qwen3-mock', messages: withImage(dataUrl(blue)) as never, max_tokens: 3, stream: true });
    let finish: string | null = null;
    for await (const chunk of stream) finish = chunk.choices[0]?.finish_reason ?? finish;
    expect(finish).not.toBeNull();
  });

  it('fetches http(s) image URLs, with the size cap enforced while downloading', async () => {
    expect((await chat(withImage(`${imagesUrl}/red.png`))).status).toBe(200);
    const missing = await chat(withImage(`${imagesUrl}/nope.png`));
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toContain('HTTP 404');
    const huge = await chat(withImage(`${imagesUrl}/huge.png`));
    expect(huge.status).toBe(400);
    expect(huge.body.error.message).toMatch(/65536-byte limit/);
  });

  it('takes Anthropic Messages image blocks (base64 source) the same way', async () => {
    const messages = async (content: unknown) => {
      const res = await fetch(`${c.gateway.url}/v1/messages`, {
        method: 'POST',
        headers: { ...ADMIN, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'qwen3-mock', max_tokens: 3, messages: [{ role: 'user', content }] }),
      });
      return { status: res.status, body: (await res.json()) as any };
    };
    const text = await messages([{ type: 'text', text: 'What is in this picture?' }]);
    const image = await messages([
      { type: 'text', text: 'What is in this picture?' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: red.toString('base64') } },
    ]);
    expect(image.status, JSON.stringify(image.body)).toBe(200);
    expect(image.body.usage.input_tokens - text.body.usage.input_tokens).toBe(77 + 2);
    const bad = await messages([{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } }]);
    expect(bad.status).toBe(400);
    expect(bad.body.type).toBe('error');
    expect(bad.body.error.type).toBe('invalid_request_error');
  });

  it('answers bad images with a 400 naming the part', async () => {
    const badBase64 = await chat(withImage('data:image/png;base64,@@@'));
    expect(badBase64.status).toBe(400);
    expect(badBase64.body.error.param).toBe('messages[0].content[1].image_url');
    const corrupt = await chat(withImage(dataUrl(Buffer.from('definitely not a png'))));
    expect(corrupt.status).toBe(400);
    expect(corrupt.body.error.message).toMatch(/could not be decoded/);
    const noUrl = await chat([{ role: 'user', content: [{ type: 'image_url', image_url: {} }] }]);
    expect(noUrl.status).toBe(400);
    const ftp = await chat(withImage('ftp://example.com/a.png'));
    expect(ftp.status).toBe(400);
    // A client's own pad token is text (role safety), so images and pads stay in step.
    const typed = await chat(withImage(dataUrl(red), 'look <|image_pad|> here'));
    expect(typed.status).toBe(200);
    // Text that smuggles the whole placeholder in would desynchronise images and pads.
    const smuggled = await chat(withImage(dataUrl(red), 'look <|vision_start|><|image_pad|><|vision_end|> here'));
    expect(smuggled.status).toBe(400);
    expect(smuggled.body.error.message).toMatch(/placeholder/);
  });
});

describe('vision: a text-only model', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster({ workers: 1 });
  });
  afterAll(async () => c?.close());

  it('refuses image parts with 400 and a clear message', async () => {
    const res = await fetch(`${c.gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...ADMIN, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'qwen3-mock', messages: withImage(dataUrl(await png(56, 56, [0, 0, 0]))), max_tokens: 2 }),
    });
    const body = (await res.json()) as any;
    expect(res.status).toBe(400);
    expect(body.error.message).toMatch(/does not accept images/);
    expect(body.error.param).toBe('messages[0].content[1].image_url');
  });
});
