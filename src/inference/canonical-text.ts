/**
 * The text an HTTP-proxied request is routed on. The gateway does not tokenize for HTTP
 * upstreams, so the routing trees hold UTF-16 code units of a canonical prompt text instead of
 * token ids: a conversation's next turn extends the previous turn's text, so it shares that
 * prefix in the tree exactly as its tokens would. The shape only has to be stable and
 * prefix-preserving (it is never sent anywhere).
 */

interface ChatLikeMessage {
  role: string;
  content?: unknown;
}

/** Chat: every message as `role\n` + its text content + `\n`, in order (non-text parts skipped). */
export function canonicalChatText(messages: readonly ChatLikeMessage[]): string {
  let out = '';
  for (const m of messages) out += `${m.role}\n${textOf(m.content)}\n`;
  return out;
}

/**
 * Completions and embeddings: the prompt string, several strings joined by `\n`, or token-id
 * prompts written as their decimal ids (so identical id prompts still share a prefix).
 */
export function canonicalPromptText(prompt: unknown): string {
  if (typeof prompt === 'string') return prompt;
  if (!Array.isArray(prompt)) return '';
  if (prompt.every((p) => typeof p === 'number')) return prompt.join(' ');
  return prompt.map((p) => (typeof p === 'string' ? p : Array.isArray(p) ? p.join(' ') : '')).join('\n');
}

/** The text as the routing sequence: one number per UTF-16 code unit (what TextRadixTree keys on). */
export function codeUnits(text: string): Uint32Array {
  const out = new Uint32Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let out = '';
  for (const part of content as { type?: unknown; text?: unknown }[]) if (part?.type === 'text' && typeof part.text === 'string') out += part.text;
  return out;
}
