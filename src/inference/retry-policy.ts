import type { Rng } from '@drover/runtime';
import { WorkerRpcError } from '@drover/worker-proto';

/** gRPC statuses worth another worker: the engine was unreachable, overloaded, slow or broken. */
const RETRYABLE = new Set(['UNAVAILABLE', 'RESOURCE_EXHAUSTED', 'DEADLINE_EXCEEDED', 'ABORTED', 'INTERNAL', 'UNKNOWN']);
/** Statuses that count against a worker's circuit; INVALID_ARGUMENT etc. are the request's fault. */
const CIRCUIT_FAILURES = new Set(['UNAVAILABLE', 'RESOURCE_EXHAUSTED', 'DEADLINE_EXCEEDED', 'INTERNAL', 'UNKNOWN', 'ABORTED']);

export class FirstTokenTimeout extends Error {
  constructor(readonly ms: number) {
    super(`no first token within ${ms} ms`);
    this.name = 'FirstTokenTimeout';
  }
}

export function isRetryable(err: unknown): boolean {
  if (err instanceof FirstTokenTimeout) return true;
  return err instanceof WorkerRpcError && RETRYABLE.has(err.grpcName);
}

export function countsAgainstWorker(err: unknown): boolean {
  if (err instanceof FirstTokenTimeout) return true;
  if (err instanceof WorkerRpcError) return CIRCUIT_FAILURES.has(err.grpcName);
  return true;
}

/** Exponential backoff with full jitter: uniform in [0, min(cap, base·2^(attempt−1))]. */
export function backoffMs(attempt: number, baseMs: number, capMs: number, rng: Rng): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(rng.next() * ceiling);
}
