import { DroverError } from '@drover/runtime';
import type { ChatMessage } from '@drover/tokenizer';
import { IMAGE_PLACEHOLDER_TEXT, type ImageRef } from '../multimodal/vision.service';
import type { AnthropicBlock, MessagesBody } from './anthropic-schemas';

/**
 * Anthropic Messages → the chat template's messages. `tool_use` blocks become the assistant
 * turn's `tool_calls`, `thinking` blocks its `reasoning_content`, and each `tool_result` a `tool`
 * message (before the user's own text, as Anthropic requires results first); image blocks
 * (vision models only) become the vision placeholder.
 */
export function anthropicToChat(body: Pick<MessagesBody, 'system' | 'messages'>, requireVision: (param: string) => void): { messages: ChatMessage[]; images: ImageRef[] } {
  const images: ImageRef[] = [];
  const image = (b: AnthropicBlock, param: string): string => {
    if (images.length === 0) requireVision(param);
    const src = (b as { source: { type: string; media_type?: string; data?: string; url?: string } }).source;
    const url = src.type === 'base64' ? `data:${src.media_type ?? 'image/png'};base64,${src.data ?? ''}` : src.url;
    if (!url) throw new DroverError('invalid_request', 'An image source of type url needs a url.', { param });
    images.push({ url, param });
    return IMAGE_PLACEHOLDER_TEXT;
  };
  /** Text and image blocks as one string. */
  const text = (blocks: readonly AnthropicBlock[], where: string): string =>
    blocks
      .map((b, j) => (b.type === 'text' ? (b as { text: string }).text : b.type === 'image' ? image(b, `${where}.content[${j}].source`) : ''))
      .join('');
  const out: ChatMessage[] = [];
  if (body.system !== undefined) out.push({ role: 'system', content: typeof body.system === 'string' ? body.system : text(body.system, 'system') });
  body.messages.forEach((m, i) => {
    const where = `messages[${i}]`;
    if (typeof m.content === 'string') return void out.push({ role: m.role, content: m.content });
    const blocks = m.content;
    if (m.role === 'assistant') {
      const calls = blocks.filter((b) => b.type === 'tool_use').map((b) => {
        const u = b as { id: string; name: string; input: unknown };
        return { id: u.id, type: 'function', function: { name: u.name, arguments: JSON.stringify(u.input ?? {}) } };
      });
      const reasoning = blocks.filter((b) => b.type === 'thinking').map((b) => (b as { thinking: string }).thinking).join('');
      const said = text(blocks, where);
      out.push({
        role: 'assistant',
        content: said.length > 0 || calls.length === 0 ? said : null,
        ...(calls.length > 0 ? { tool_calls: calls } : {}),
        ...(reasoning ? { reasoning_content: reasoning } : {}),
      });
      return;
    }
    blocks.forEach((b, j) => {
      if (b.type !== 'tool_result') return;
      const r = b as { tool_use_id: string; content?: string | AnthropicBlock[]; is_error?: boolean };
      const result = r.content === undefined ? '' : typeof r.content === 'string' ? r.content : text(r.content, `${where}.content[${j}]`);
      out.push({ role: 'tool', tool_call_id: r.tool_use_id, content: r.is_error ? `Error: ${result}` : result });
    });
    if (blocks.some((b) => b.type === 'text' || b.type === 'image')) out.push({ role: 'user', content: text(blocks, where) });
  });
  if (out[out.length - 1].role === 'assistant') {
    throw new DroverError('unsupported', 'A final assistant message (prefill) is not supported.', { param: 'messages' });
  }
  return { messages: out, images };
}

/** Anthropic tools as chat tools (what the template and the parsers take). */
export function anthropicTools(body: Pick<MessagesBody, 'tools'>): unknown[] | undefined {
  return body.tools?.map((t) => ({ type: 'function', function: { name: t.name, ...(t.description !== undefined ? { description: t.description } : {}), parameters: t.input_schema } }));
}

/** Anthropic tool_choice as chat tool_choice: any → required, tool → named. */
export function anthropicToolChoice(body: Pick<MessagesBody, 'tool_choice'>): unknown {
  const c = body.tool_choice;
  if (!c) return undefined;
  if (c.type === 'any') return 'required';
  if (c.type === 'tool') {
    if (!c.name) throw new DroverError('invalid_request', "tool_choice of type 'tool' needs a name.", { param: 'tool_choice.name' });
    return { type: 'function', function: { name: c.name } };
  }
  return c.type;
}

/** A parser call id (`call_…`) as an Anthropic tool_use id. */
export function toolUseId(callId: string): string {
  return callId.startsWith('call_') ? `toolu_${callId.slice(5)}` : callId;
}
