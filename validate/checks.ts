/**
 * The onboarding checks, each a small conversation with fixed prompts (so a mock with scripted
 * replies can answer them in CI). A check passes, fails, or is skipped when the model does not
 * claim the capability (a model that does not reason).
 */
import { getJson, postJson, postStream, type Target } from './client';

export type Status = 'pass' | 'fail' | 'skip';

export interface CheckResult {
  name: string;
  status: Status;
  detail: string;
}

export const PROMPTS = {
  basic: 'Validation: say hello in one short sentence.',
  tool: 'Validation: what is the weather in Paris? Call get_weather.',
  toolResult: '{"city": "Paris", "weather": "sunny", "temperature_c": 21}',
  reasoning: 'Validation: think step by step, what is 17 + 25?',
  structured: 'Validation: give the weather in Paris as JSON.',
} as const;

const WEATHER_TOOL = {
  type: 'function',
  function: { name: 'get_weather', description: 'Current weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};

const user = (content: string) => [{ role: 'user', content }];
const pass = (name: string, detail: string): CheckResult => ({ name, status: 'pass', detail });
const fail = (name: string, detail: string): CheckResult => ({ name, status: 'fail', detail });

async function modelListed(t: Target): Promise<CheckResult> {
  const list = await getJson(t, '/v1/models');
  const ids: string[] = (list.data ?? []).map((m: { id: string }) => m.id);
  return ids.includes(t.model) ? pass('model listed', '/v1/models lists it') : fail('model listed', `not in /v1/models (${ids.slice(0, 5).join(', ')})`);
}

async function chatAndUsage(t: Target): Promise<CheckResult[]> {
  const r = await postJson(t, '/v1/chat/completions', { messages: user(PROMPTS.basic), max_tokens: 32, temperature: 0 });
  const c = r.choices?.[0];
  const content = c?.message?.content;
  const chat = typeof content === 'string' && content.length > 0 && c.finish_reason ? pass('chat', `${JSON.stringify(content.slice(0, 40))} (${c.finish_reason})`) : fail('chat', `no content or finish_reason: ${JSON.stringify(c).slice(0, 120)}`);
  const u = r.usage;
  const usageOk = u && u.prompt_tokens > 0 && u.completion_tokens > 0 && u.total_tokens === u.prompt_tokens + u.completion_tokens;
  const usage = usageOk ? pass('usage', `prompt ${u.prompt_tokens}, completion ${u.completion_tokens}`) : fail('usage', `bad usage: ${JSON.stringify(u)}`);
  return [chat, usage];
}

async function streaming(t: Target): Promise<CheckResult> {
  const events = await postStream(t, '/v1/chat/completions', { messages: user(PROMPTS.basic), max_tokens: 32, temperature: 0, stream_options: { include_usage: true } });
  let text = '';
  let pieces = 0;
  let finish: string | undefined;
  let usage: { completion_tokens?: number } | undefined;
  for (const e of events) {
    if (e === '[DONE]' || typeof e !== 'object' || e === null) continue;
    const chunk = e as { choices?: { delta?: { content?: string }; finish_reason?: string | null }[]; usage?: { completion_tokens?: number } };
    for (const ch of chunk.choices ?? []) {
      if (ch.delta?.content) {
        text += ch.delta.content;
        pieces++;
      }
      finish = ch.finish_reason ?? finish;
    }
    if (chunk.usage) usage = chunk.usage;
  }
  const problems = [
    pieces === 0 && 'no content deltas',
    !finish && 'no finish_reason',
    events[events.length - 1] !== '[DONE]' && 'no [DONE]',
    !usage?.completion_tokens && 'no usage chunk (stream_options.include_usage)',
  ].filter(Boolean);
  return problems.length === 0 ? pass('streaming', `${pieces} deltas, ${text.length} chars, usage chunk`) : fail('streaming', problems.join('; '));
}

async function stopStrings(t: Target): Promise<CheckResult> {
  // Temperature 0 (no seed: SGLang takes none) so that the second answer repeats the first up to the stop string.
  const base = { messages: user(PROMPTS.basic), max_tokens: 32, temperature: 0 };
  const first = (await postJson(t, '/v1/chat/completions', base)).choices[0].message.content as string;
  const words = first.split(/\s+/).filter((w) => /^[A-Za-z]{3,}$/.test(w));
  if (words.length < 2) return { name: 'stop strings', status: 'skip', detail: `the answer has too few words to pick a stop string: ${JSON.stringify(first.slice(0, 40))}` };
  const stop = words[Math.floor(words.length / 2)];
  const r = await postJson(t, '/v1/chat/completions', { ...base, stop: [stop] });
  const text = r.choices[0].message.content as string;
  if (text.includes(stop)) return fail('stop strings', `output still contains the stop string ${JSON.stringify(stop)}`);
  if (r.choices[0].finish_reason !== 'stop') return fail('stop strings', `finish_reason ${r.choices[0].finish_reason}, expected stop`);
  return pass('stop strings', `stopped before ${JSON.stringify(stop)}`);
}

async function toolRoundTrip(t: Target): Promise<CheckResult> {
  const name = 'tool-call round trip';
  const messages: Record<string, unknown>[] = user(PROMPTS.tool);
  const r = await postJson(t, '/v1/chat/completions', { messages, tools: [WEATHER_TOOL], max_tokens: 256, temperature: 0 });
  const c = r.choices[0];
  const call = c.message.tool_calls?.[0];
  if (!call) return fail(name, `no tool_calls (finish_reason ${c.finish_reason}; content ${JSON.stringify(String(c.message.content ?? '').slice(0, 60))}): is a tool parser set for this model?`);
  if (c.finish_reason !== 'tool_calls') return fail(name, `finish_reason ${c.finish_reason}, expected tool_calls`);
  let args: unknown;
  try {
    args = JSON.parse(call.function.arguments);
  } catch {
    return fail(name, `arguments are not JSON: ${call.function.arguments}`);
  }
  if (call.function.name !== 'get_weather' || typeof args !== 'object' || args === null) return fail(name, `unexpected call ${call.function.name}(${call.function.arguments})`);
  messages.push(c.message, { role: 'tool', tool_call_id: call.id, content: PROMPTS.toolResult });
  const second = await postJson(t, '/v1/chat/completions', { messages, tools: [WEATHER_TOOL], max_tokens: 256, temperature: 0 });
  const answer = second.choices[0].message.content;
  if (typeof answer !== 'string' || answer.length === 0) return fail(name, `no answer after the tool result (finish_reason ${second.choices[0].finish_reason})`);
  return pass(name, `get_weather(${call.function.arguments}) → ${JSON.stringify(answer.slice(0, 40))}`);
}

async function reasoningSplit(t: Target): Promise<CheckResult> {
  const name = 'reasoning split';
  const r = await postJson(t, '/v1/chat/completions', { messages: user(PROMPTS.reasoning), max_tokens: 512, temperature: 0 });
  const m = r.choices[0].message;
  const content = String(m.content ?? '');
  if (/<\/?think>|\[\/?THINK\]|<\|channel\|>/.test(content)) return fail(name, 'reasoning markers in content: is a reasoning parser set for this model?');
  if (!m.reasoning_content) return { name, status: 'skip', detail: 'no reasoning in the output (a model that does not reason)' };
  return pass(name, `${m.reasoning_content.length} chars of reasoning, answer ${JSON.stringify(content.slice(0, 30))}`);
}

async function structuredOutput(t: Target): Promise<CheckResult> {
  const name = 'structured output';
  const schema = { type: 'object', properties: { city: { type: 'string' }, temperature_c: { type: 'number' } }, required: ['city', 'temperature_c'], additionalProperties: false };
  const r = await postJson(t, '/v1/chat/completions', { messages: user(PROMPTS.structured), max_tokens: 128, temperature: 0, response_format: { type: 'json_schema', json_schema: { name: 'weather', schema, strict: true } } });
  const content = String(r.choices[0].message.content ?? '');
  let value: any;
  try {
    value = JSON.parse(content);
  } catch {
    return fail(name, `not JSON: ${JSON.stringify(content.slice(0, 60))}`);
  }
  if (typeof value?.city !== 'string' || typeof value?.temperature_c !== 'number') return fail(name, `does not match the schema: ${content.slice(0, 80)}`);
  return pass(name, content.slice(0, 60));
}

async function logprobs(t: Target): Promise<CheckResult> {
  const name = 'logprobs';
  const r = await postJson(t, '/v1/chat/completions', { messages: user(PROMPTS.basic), max_tokens: 8, temperature: 0, logprobs: true, top_logprobs: 3 });
  const entries: { token: string; logprob: number; top_logprobs?: unknown[] }[] = r.choices[0].logprobs?.content ?? [];
  if (entries.length === 0) return fail(name, 'no logprobs.content');
  const bad = entries.find((e) => typeof e.token !== 'string' || !Number.isFinite(e.logprob) || e.logprob > 0 || !Array.isArray(e.top_logprobs) || e.top_logprobs.length === 0 || e.top_logprobs.length > 3);
  return bad ? fail(name, `bad entry ${JSON.stringify(bad).slice(0, 100)}`) : pass(name, `${entries.length} tokens with top 3`);
}

/** Every check in order; a check that throws fails with its error. */
export async function runChecks(t: Target): Promise<CheckResult[]> {
  const steps: [string, () => Promise<CheckResult | CheckResult[]>][] = [
    ['model listed', () => modelListed(t)],
    ['chat', () => chatAndUsage(t)],
    ['streaming', () => streaming(t)],
    ['stop strings', () => stopStrings(t)],
    ['tool-call round trip', () => toolRoundTrip(t)],
    ['reasoning split', () => reasoningSplit(t)],
    ['structured output', () => structuredOutput(t)],
    ['logprobs', () => logprobs(t)],
  ];
  const out: CheckResult[] = [];
  for (const [name, run] of steps) {
    try {
      out.push(...([] as CheckResult[]).concat(await run()));
    } catch (err) {
      out.push(fail(name, (err as Error).message));
    }
  }
  return out;
}

/** The pass/fail table. */
export function renderTable(results: readonly CheckResult[]): string {
  const w = Math.max(5, ...results.map((r) => r.name.length));
  const lines = [`${'check'.padEnd(w)}  result  detail`, `${'-'.repeat(w)}  ------  ------`];
  for (const r of results) lines.push(`${r.name.padEnd(w)}  ${r.status.toUpperCase().padEnd(6)}  ${r.detail}`);
  const failed = results.filter((r) => r.status === 'fail').length;
  lines.push('', failed === 0 ? `all checks passed (${results.filter((r) => r.status === 'skip').length} skipped)` : `${failed} of ${results.length} checks failed`);
  return lines.join('\n');
}
