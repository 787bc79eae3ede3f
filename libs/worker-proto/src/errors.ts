import { status } from '@grpc/grpc-js';

const NAMES: Record<number, string> = Object.fromEntries(Object.entries(status).filter(([, v]) => typeof v === 'number').map(([k, v]) => [v as number, k]));
const RETRYABLE = new Set([status.UNAVAILABLE, status.RESOURCE_EXHAUSTED, status.DEADLINE_EXCEEDED, status.ABORTED, status.INTERNAL, status.UNKNOWN]);

/** A gRPC failure of a worker call, with the status code kept so the gateway can map it. */
export class WorkerRpcError extends Error {
  readonly grpcName: string;
  readonly retryable: boolean;

  constructor(
    readonly grpcCode: number,
    message: string,
    /** A `retry-after` (seconds) or `retry-after-ms` the engine sent in its trailers. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'WorkerRpcError';
    this.grpcName = NAMES[grpcCode] ?? 'UNKNOWN';
    this.retryable = RETRYABLE.has(grpcCode);
  }

  static from(err: unknown): WorkerRpcError {
    if (err instanceof WorkerRpcError) return err;
    const e = err as { code?: number; details?: string; message?: string; metadata?: { get(key: string): unknown[] } };
    const code = typeof e?.code === 'number' ? e.code : status.UNKNOWN;
    return new WorkerRpcError(code, e?.details || e?.message || String(err), retryAfterOf(e?.metadata));
  }
}

function retryAfterOf(md: { get(key: string): unknown[] } | undefined): number | undefined {
  if (!md || typeof md.get !== 'function') return undefined;
  const ms = Number(md.get('retry-after-ms')[0]);
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const s = Number(md.get('retry-after')[0]);
  return Number.isFinite(s) && s >= 0 ? s * 1000 : undefined;
}
