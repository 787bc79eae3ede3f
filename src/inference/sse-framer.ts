import type { Usage } from './inference-types';

/**
 * Splits an upstream SSE byte stream into whole events, so the proxy forwards events as they
 * arrive but never half of one: an error event written after a broken upstream then always
 * starts on an event boundary. Events keep their exact original text.
 */
export class SseFramer {
  private buffer = '';

  /** Complete events (each with its terminating blank line) found after appending `text`. */
  push(text: string): string[] {
    this.buffer += text;
    const out: string[] = [];
    for (;;) {
      const m = /\r?\n\r?\n/.exec(this.buffer);
      if (!m) break;
      const end = m.index + m[0].length;
      out.push(this.buffer.slice(0, end));
      this.buffer = this.buffer.slice(end);
    }
    return out;
  }

  /** Characters held for an event whose end has not arrived yet. */
  get pendingLength(): number {
    return this.buffer.length;
  }

  /** What is left when the stream ends (an event the upstream did not terminate), or ''. */
  rest(): string {
    const r = this.buffer;
    this.buffer = '';
    return r;
  }
}

/** The `data:` payload of one SSE event (multi-line data joined by `\n`), or undefined. */
export function eventData(event: string): string | undefined {
  let data: string | undefined;
  for (const line of event.split(/\r?\n/)) {
    if (!line.startsWith('data:')) continue;
    const v = line.slice(line.startsWith('data: ') ? 6 : 5);
    data = data === undefined ? v : `${data}\n${v}`;
  }
  return data;
}

/** What the proxy learns from an upstream's answers for metrics and rate limits. */
export interface UpstreamOutcome {
  usage?: Usage;
  finishReason?: string;
  sawDone: boolean;
}

/** Reads usage and a finish reason from one OpenAI JSON object (a response or a stream chunk). */
export function observeJson(json: unknown, into: UpstreamOutcome): void {
  if (!json || typeof json !== 'object') return;
  const o = json as { usage?: Record<string, unknown> | null; choices?: { finish_reason?: unknown }[] };
  if (o.usage && typeof o.usage === 'object') {
    const u = o.usage as { prompt_tokens?: unknown; completion_tokens?: unknown; prompt_tokens_details?: { cached_tokens?: unknown } | null };
    into.usage = {
      promptTokens: num(u.prompt_tokens),
      completionTokens: num(u.completion_tokens),
      cachedTokens: num(u.prompt_tokens_details?.cached_tokens),
    };
  }
  if (Array.isArray(o.choices)) {
    for (const c of o.choices) if (typeof c?.finish_reason === 'string') into.finishReason = c.finish_reason;
  }
}

/**
 * Looks at one forwarded event; returns the event to write (rewritten only when `rename` asks the
 * JSON's `model` to read as the gateway's model name instead of the upstream's).
 */
export function inspectEvent(event: string, into: UpstreamOutcome, rename?: string): string {
  const data = eventData(event);
  if (data === undefined) return event;
  if (data.trim() === '[DONE]') {
    into.sawDone = true;
    return event;
  }
  // Parse only what can matter: usage/finish reasons, or a model name to rewrite.
  if (!rename && !data.includes('"usage"') && !data.includes('"finish_reason"')) return event;
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return event;
  }
  observeJson(json, into);
  if (rename && json && typeof json === 'object' && 'model' in json) {
    (json as { model: unknown }).model = rename;
    return `data: ${JSON.stringify(json)}\n\n`;
  }
  return event;
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0;
}
