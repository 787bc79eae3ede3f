import type { GenerateEvent } from '@drover/worker-proto';

/** Every event of a Generate stream, in order (specs). */
export async function collect(events: AsyncIterable<GenerateEvent>): Promise<GenerateEvent[]> {
  const out: GenerateEvent[] = [];
  for await (const e of events) out.push(e);
  return out;
}

/** Polls `check` until it holds; throws naming `what` after `timeoutMs` (specs wait on conditions, not sleeps). */
export async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
