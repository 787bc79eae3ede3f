import type { Rng } from '@drover/runtime';
import { WorkerRpcError } from '@drover/worker-proto';

/** gRPC statuses worth another worker: the engine was unreachable, overloaded, slow or broken. */
const RETRYABLE = new Set(['UNAVAILABLE', 'RESOURCE_EXHAUSTED', 'DEADLINE_EXCEEDED', 'ABORTED', 'INTERNAL', 'UNKNOWN']);
/**
 * Statuses that count against a worker's circuit; INVALID_ARGUMENT etc. are the request's fault.
 * INTERNAL is not among them: SGLang reports most failures as INTERNAL, request-caused ones
 * included, so one bad request retried across the fleet would open every healthy circuit. A
 * broken engine is caught by its health check (SGLang's generates a token) instead.
 */
const CIRCUIT_FAILURES = new Set(['UNAVAILABLE', 'RESOURCE_EXHAUSTED', 'DEADLINE_EXCEEDED', 'UNKNOWN', 'ABORTED']);

/** The gateway gave up on a worker that went quiet: retryable elsewhere, and counted against it. */
export abstract class WorkerTimeout extends Error {
  constructor(
    readonly ms: number,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class FirstTokenTimeout extends WorkerTimeout {
  constructor(ms: number) {
    super(ms, `no first token within ${ms} ms`);
  }
}

/** Output started, then nothing more arrived for `ms`: a worker stalled mid-generation. */
export class StreamIdleTimeout extends WorkerTimeout {
  constructor(ms: number) {
    super(ms, `no output from the worker for ${ms} ms after generation started`);
  }
}

/**
 * Worth another worker? INTERNAL only on the first attempt: one INTERNAL may be that engine's
 * fault, a second one on another engine is the request's (SGLang maps request faults to INTERNAL).
 */
export function isRetryable(err: unknown, attempt = 1): boolean {
  if (err instanceof WorkerTimeout) return true;
  if (!(err instanceof WorkerRpcError) || !RETRYABLE.has(err.grpcName)) return false;
  return err.grpcName !== 'INTERNAL' || attempt <= 1;
}

export function countsAgainstWorker(err: unknown): boolean {
  if (err instanceof WorkerTimeout) return true;
  if (err instanceof WorkerRpcError) return CIRCUIT_FAILURES.has(err.grpcName);
  return true;
}

/** Exponential backoff with full jitter: uniform in [0, min(cap, base·2^(attempt−1))]. */
export function backoffMs(attempt: number, baseMs: number, capMs: number, rng: Rng): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(rng.next() * ceiling);
}

/** Disaggregated serving: the prefill side finished, and the decode side never started (its KV never arrived). */
export class KvTransferTimeout extends WorkerTimeout {
  constructor(ms: number) {
    super(ms, `the KV cache transfer from the prefill worker to the decode worker did not complete within ${ms} ms`);
  }
}
