/** The few HTTP calls the onboarding check makes: JSON requests and an SSE stream read whole. */
export interface Target {
  url: string;
  model: string;
  apiKey?: string;
  timeoutMs: number;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    body: string,
  ) {
    super(`HTTP ${status}: ${body.slice(0, 300)}`);
  }
}

function headers(t: Target): Record<string, string> {
  return { 'content-type': 'application/json', ...(t.apiKey ? { authorization: `Bearer ${t.apiKey}` } : {}) };
}

export async function getJson(t: Target, path: string): Promise<any> {
  const res = await fetch(`${t.url}${path}`, { headers: headers(t), signal: AbortSignal.timeout(t.timeoutMs) });
  const text = await res.text();
  if (!res.ok) throw new HttpError(res.status, text);
  return JSON.parse(text);
}

export async function postJson(t: Target, path: string, body: Record<string, unknown>): Promise<any> {
  const res = await fetch(`${t.url}${path}`, { method: 'POST', headers: headers(t), body: JSON.stringify({ model: t.model, ...body }), signal: AbortSignal.timeout(t.timeoutMs) });
  const text = await res.text();
  if (!res.ok) throw new HttpError(res.status, text);
  return JSON.parse(text);
}

/** A streamed request: every `data:` payload in order (`[DONE]` as the string). */
export async function postStream(t: Target, path: string, body: Record<string, unknown>): Promise<unknown[]> {
  const res = await fetch(`${t.url}${path}`, { method: 'POST', headers: headers(t), body: JSON.stringify({ model: t.model, ...body, stream: true }), signal: AbortSignal.timeout(t.timeoutMs) });
  const text = await res.text();
  if (!res.ok) throw new HttpError(res.status, text);
  const out: unknown[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('data:')) continue;
    const data = line.slice(5).trim();
    out.push(data === '[DONE]' ? data : JSON.parse(data));
  }
  return out;
}
