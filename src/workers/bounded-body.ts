import type { Readable } from 'node:stream';

/**
 * Every upstream body is read with a bound, so a worker (or whatever answers at its address)
 * cannot make the gateway buffer without limit: a model list, an error body, a non-streaming
 * answer, one server-sent event.
 */
export const UPSTREAM_LIMITS = {
  /** A non-streaming answer (a long completion with logprobs fits many times over). */
  answerBytes: 64 * 1024 * 1024,
  /** One server-sent event of a streamed answer (bytes held until its terminating blank line). */
  eventBytes: 4 * 1024 * 1024,
  /** `GET /v1/models` and other metadata. */
  metadataBytes: 1024 * 1024,
  /** An error body kept for pass-through (the rest is discarded). */
  errorBytes: 64 * 1024,
} as const;

/** A body over its bound: the read is abandoned and the connection closed. */
export class BodyTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`the upstream body exceeds ${limit} bytes`);
    this.name = 'BodyTooLarge';
  }
}

/** Reads the whole body, or throws BodyTooLarge as soon as it passes `maxBytes` (the body is destroyed). */
export async function readBounded(body: Readable, maxBytes: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += (chunk as Buffer).length;
    if (total > maxBytes) {
      body.destroy();
      throw new BodyTooLarge(maxBytes);
    }
    parts.push(chunk as Buffer);
  }
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}

/** The first `maxBytes` of a body; the rest is not read (the body is destroyed). */
export async function readPrefix(body: Readable, maxBytes: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    parts.push(chunk as Buffer);
    total += (chunk as Buffer).length;
    if (total >= maxBytes) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(parts).subarray(0, maxBytes);
}
