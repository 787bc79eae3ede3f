import { toDroverError } from '../errors/to-drover-error';
import { openAiErrorBody } from '../errors/error-body';
import type { InferenceEvent, Usage } from '../inference/inference-types';
import type { SseWriter } from './sse';

/** Several SSE events from one inference event (a builder may also return undefined: nothing to send yet). */
export class Chunks {
  constructor(readonly list: unknown[]) {}
}

function send(sse: SseWriter, chunk: unknown): void {
  if (chunk === undefined) return;
  if (chunk instanceof Chunks) for (const c of chunk.list) sse.data(c);
  else sse.data(chunk);
}

export interface ChunkBuilders {
  first?: () => unknown;
  text: (text: string, event: Extract<InferenceEvent, { type: 'text' }>) => unknown;
  end: (e: Extract<InferenceEvent, { type: 'end' }>) => unknown;
  usage?: (u: Usage) => unknown;
}

/**
 * Waits for the first event before answering, so that failures before any output (unknown model,
 * no worker, every retry failed) still get their real HTTP status and an OpenAI error body.
 */
export async function firstEvent(events: AsyncGenerator<InferenceEvent>): Promise<IteratorResult<InferenceEvent>> {
  return events.next();
}

/**
 * Drives the rest of an inference event stream into SSE. Errors mid-stream end the stream with an
 * OpenAI-style error event and `[DONE]`, so clients never hang.
 */
export async function streamCompletion(
  head: IteratorResult<InferenceEvent>,
  events: AsyncGenerator<InferenceEvent>,
  sse: SseWriter,
  build: ChunkBuilders,
  /** false when more choices will follow on the same stream (no `[DONE]`, no end). */
  terminate = true,
): Promise<void> {
  try {
    // The first event was already read (see firstEvent); the rest are pulled one by one, without
    // another generator layer in between.
    let next = head;
    for (let started = false; !next.done; next = await events.next()) {
      const e = next.value;
      if (sse.isClosed) {
        await events.return(undefined);
        return;
      }
      if (!started && build.first) sse.data(build.first());
      started = true;
      if (e.type === 'text') {
        send(sse, build.text(e.text, e));
        // A slow reader holds the next pull (backpressure to the engine), see SseWriter.drained.
        if (sse.backlogged) await sse.drained();
      } else if (e.type === 'end') {
        send(sse, build.end(e));
        if (build.usage) sse.data(build.usage(e.usage));
      }
    }
  } catch (err) {
    sse.data(openAiErrorBody(toDroverError(err)));
  } finally {
    if (terminate) {
      sse.data('[DONE]');
      sse.end();
    }
  }
}
