import type { Metadata } from '@grpc/grpc-js';

/**
 * A server started with an API key requires `authorization: Bearer <key>` metadata on every call
 * (vLLM's gRPC server can require one; the comparison does not leak the key through timing).
 */
export function hasApiKey(metadata: Metadata, apiKey: string | undefined): boolean {
  if (!apiKey) return true;
  const got = metadata.get('authorization')[0];
  const expected = `Bearer ${apiKey}`;
  if (typeof got !== 'string' || got.length !== expected.length) return false;
  let diff = 0;
  for (let i = 0; i < got.length; i++) diff |= got.charCodeAt(i) ^ expected.charCodeAt(i);
  return diff === 0;
}
