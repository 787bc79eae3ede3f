import { DroverError } from '@drover/runtime';
import type { ChatMessage } from '@drover/tokenizer';
import type { ResponsesBody, ResponsesInputItem } from './responses-schemas';

/**
 * Responses input items → chat messages (what the template renders): messages as they are,
 * `function_call` items as the `tool_calls` of the assistant turn they follow (a new assistant
 * turn if none), `function_call_output` as tool messages, `reasoning` items as the next assistant
 * turn's `reasoning_content`.
 */
export function inputToChat(input: ResponsesBody['input']): ChatMessage[] {
  if (typeof input === 'string') return [{ role: 'user', content: input }];
  const turns: ChatMessage[] = [];
  let reasoning = '';
  const assistant = (): ChatMessage => {
    const last = turns[turns.length - 1];
    if (last?.role === 'assistant') return last;
    const turn: ChatMessage = { role: 'assistant', content: null };
    turns.push(turn);
    return turn;
  };
  const takeReasoning = (turn: ChatMessage) => {
    if (reasoning) turn.reasoning_content = (turn.reasoning_content ?? '') + reasoning;
    reasoning = '';
  };
  for (const item of input as ResponsesInputItem[]) {
    if (item.type === 'reasoning') {
      const r = item as { summary?: { text: string }[]; content?: { text: string }[] | null };
      reasoning += (r.content && r.content.length > 0 ? r.content : (r.summary ?? [])).map((p) => p.text).join('\n');
    } else if (item.type === 'function_call') {
      const c = item as { call_id: string; name: string; arguments: string };
      const turn = assistant();
      takeReasoning(turn);
      turn.tool_calls = [...(turn.tool_calls ?? []), { id: c.call_id, type: 'function', function: { name: c.name, arguments: c.arguments } }];
    } else if (item.type === 'function_call_output') {
      const o = item as { call_id: string; output: string | { text?: string }[] };
      turns.push({ role: 'tool', tool_call_id: o.call_id, content: typeof o.output === 'string' ? o.output : o.output.map((p) => p.text ?? '').join('') });
    } else {
      const m = item as { role: 'system' | 'developer' | 'user' | 'assistant'; content: string | { text: string }[] };
      const content = typeof m.content === 'string' ? m.content : m.content.map((p) => p.text).join('');
      const turn: ChatMessage = { role: m.role === 'developer' ? 'system' : m.role, content };
      if (m.role === 'assistant') takeReasoning(turn);
      turns.push(turn);
    }
  }
  return turns;
}

/** Responses function tools (`{type, name, description, parameters}`) as chat tools. */
export function responsesTools(body: ResponsesBody): unknown[] | undefined {
  if (!body.tools || body.tools.length === 0) return undefined;
  return body.tools.map((t, i) => {
    if (t.type !== 'function' || !t.name) throw new DroverError('unsupported', `Only function tools are supported (tools[${i}] is '${t.type}').`, { param: `tools[${i}]` });
    return { type: 'function', function: { name: t.name, ...(t.description ? { description: t.description } : {}), ...(t.parameters ? { parameters: t.parameters } : {}) } };
  });
}

/** Responses tool_choice ({type: 'function', name}) as chat tool_choice. */
export function responsesToolChoice(body: ResponsesBody): unknown {
  const c = body.tool_choice;
  if (c === undefined || c === null || typeof c === 'string') return c ?? undefined;
  if (c.type === 'function' && c.name) return { type: 'function', function: { name: c.name } };
  throw new DroverError('invalid_request', "tool_choice must be 'none', 'auto', 'required' or {type: 'function', name}.", { param: 'tool_choice' });
}
