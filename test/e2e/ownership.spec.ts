import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../support/cluster';
import { TEST_API_KEY } from '../support/auth';

/**
 * Ownership (issue 16): the ids that name a request's work (engine request id, response id) are
 * chosen by the gateway, so two clients sending the same x-request-id at the same time neither
 * collide at the engine nor reach each other's stored responses or aborts.
 */
describe('ownership: a shared x-request-id names nothing', () => {
  const OTHER_KEY = 'second-client-key';
  const SHARED = { headers: { 'x-request-id': 'same-id-for-both' } };
  let c: TestCluster;
  let alice: OpenAI;
  let bob: OpenAI;
  const engineIds: string[] = [];

  beforeAll(async () => {
    // One worker that refuses a request id it is already running (as vLLM does): any shared id reaching it fails.
    c = await startCluster({ workers: 1, gateway: { apiKey: [TEST_API_KEY, OTHER_KEY] } });
    alice = c.client;
    bob = new OpenAI({ baseURL: `${c.gateway.url}/v1`, apiKey: OTHER_KEY, maxRetries: 0, timeout: 30_000 });
    const engine = c.workers[0].engine;
    const submit = engine.submit.bind(engine);
    engine.submit = (req, sink) => {
      engineIds.push(req.requestId);
      submit(req, sink);
    };
  });
  afterAll(async () => c?.close());

  const chat = (content: string, max_tokens: number) => ({ model: 'qwen3-mock', messages: [{ role: 'user' as const, content }], max_tokens, ignore_eos: true });
  /** What a prompt yields alone (the mock's output is a function of the prompt). */
  const alone = async (content: string, max: number) => (await alice.chat.completions.create(chat(content, max))).choices[0].message.content;

  it('two clients streaming with the same x-request-id at once both get their own output', async () => {
    const [expectA, expectB] = [await alone('alice asks', 40), await alone('bob asks', 40)];
    const a = await alice.chat.completions.create({ ...chat('alice asks', 40), stream: true }, SHARED).withResponse();
    const itA = a.data[Symbol.asyncIterator]();
    let textA = '';
    // Bob starts while Alice's request is running at the engine.
    const first = await itA.next();
    textA += first.done ? '' : (first.value.choices[0]?.delta?.content ?? '');
    const b = await bob.chat.completions.create({ ...chat('bob asks', 40), stream: true }, SHARED).withResponse();
    let textB = '';
    for await (const chunk of b.data) textB += chunk.choices[0]?.delta?.content ?? '';
    for (let n = await itA.next(); !n.done; n = await itA.next()) textA += n.value.choices[0]?.delta?.content ?? '';
    expect(textA).toBe(expectA);
    expect(textB).toBe(expectB);
    // Both are told their label back; the ids that name the work are the gateway's, and differ.
    expect(a.response.headers.get('x-request-id')).toBe('same-id-for-both');
    expect(b.response.headers.get('x-request-id')).toBe('same-id-for-both');
    const [idA, idB] = [a.response.headers.get('x-drover-request-id')!, b.response.headers.get('x-drover-request-id')!];
    expect(idA).toMatch(/^req-[0-9a-f]{32}$/);
    expect(idB).toMatch(/^req-[0-9a-f]{32}$/);
    expect(idA).not.toBe(idB);
    expect(engineIds).toContain(idA);
    expect(engineIds).toContain(idB);
    expect(engineIds).not.toContain('same-id-for-both');
  });

  it("one client going away aborts its own engine request, not the other's under the same x-request-id", async () => {
    const expectB = await alone('bob keeps going', 30);
    const controller = new AbortController();
    const a = await alice.chat.completions.create({ ...chat('alice leaves early', 2000), stream: true }, { ...SHARED, signal: controller.signal }).withResponse();
    const itA = a.data[Symbol.asyncIterator]();
    await itA.next();
    const idA = a.response.headers.get('x-drover-request-id')!;
    const engine = c.workers[0].engine as unknown as { running: Map<string, unknown> };
    expect(engine.running.has(idA)).toBe(true);
    const b = bob.chat.completions.create({ ...chat('bob keeps going', 30), stream: true }, SHARED);
    const streamB = await b;
    const itB = streamB[Symbol.asyncIterator]();
    let textB = '';
    const firstB = await itB.next();
    textB += firstB.done ? '' : (firstB.value.choices[0]?.delta?.content ?? '');
    // Alice disconnects while both run; the engine drops her request only.
    controller.abort();
    await itA.next().catch(() => undefined);
    let finish: string | null | undefined;
    for (let n = await itB.next(); !n.done; n = await itB.next()) {
      textB += n.value.choices[0]?.delta?.content ?? '';
      finish = n.value.choices[0]?.finish_reason ?? finish;
    }
    expect(textB).toBe(expectB);
    expect(finish).toBe('length');
    await expect.poll(() => engine.running.has(idA), { timeout: 5000 }).toBe(false);
  });

  it('stored responses made under the same x-request-id are separate, and neither key reaches the other', async () => {
    const mine = await alice.responses.create({ model: 'qwen3-mock', input: 'alice remembers', max_output_tokens: 4 }, SHARED);
    const theirs = await bob.responses.create({ model: 'qwen3-mock', input: 'bob remembers', max_output_tokens: 4 }, SHARED);
    expect(mine.id).not.toBe(theirs.id);
    for (const r of [mine, theirs]) {
      expect(r.id).toMatch(/^resp_[0-9a-f]{32}$/);
      expect(r.id).not.toContain('same-id');
    }
    // Neither can read, continue or delete the other's; each still reads its own.
    await expect(bob.responses.retrieve(mine.id)).rejects.toMatchObject({ status: 404 });
    await expect(alice.responses.retrieve(theirs.id)).rejects.toMatchObject({ status: 404 });
    await expect(bob.responses.create({ model: 'qwen3-mock', input: 'x', previous_response_id: mine.id, max_output_tokens: 2 })).rejects.toMatchObject({ status: 404 });
    await expect(bob.responses.delete(mine.id)).rejects.toMatchObject({ status: 404 });
    await expect(alice.responses.delete(theirs.id)).rejects.toMatchObject({ status: 404 });
    expect((await alice.responses.retrieve(mine.id)).output_text).toBe(mine.output_text);
    expect((await bob.responses.retrieve(theirs.id)).output_text).toBe(theirs.output_text);
  });
});
