import type { ModelInfo, WorkerClient, WorkerLoad, WorkerProtocol } from '@drover/worker-proto';
import type { CircuitBreaker } from './circuit-breaker';

/** pending → ready ⇄ not_ready → failed; only `ready` workers are routed to. */
export type WorkerHealth = 'pending' | 'ready' | 'not_ready' | 'failed';

export interface WorkerSpec {
  url: string;
  /** Serve this worker under a model name other than the one it reports. */
  model?: string;
  protocol?: WorkerProtocol | 'auto';
  labels?: Record<string, string>;
  /** A disabled worker stays registered but receives no new requests. */
  disabled?: boolean;
}

export interface WorkerRecord {
  readonly id: string;
  spec: WorkerSpec;
  client: WorkerClient | undefined;
  protocol: WorkerProtocol | undefined;
  modelInfo: ModelInfo | undefined;
  /** The model name clients use to reach this worker. */
  model: string | undefined;
  health: WorkerHealth;
  healthMessage: string;
  consecutiveFailures: number;
  draining: boolean;
  inFlight: number;
  circuit: CircuitBreaker;
  load: WorkerLoad | undefined;
  createdAt: number;
  lastCheckedAt: number | undefined;
}

export function isRoutable(w: WorkerRecord): boolean {
  return w.health === 'ready' && !w.draining && !w.spec.disabled && w.client !== undefined && w.circuit.canPass();
}

export function workerView(w: WorkerRecord): Record<string, unknown> {
  return {
    id: w.id,
    url: w.spec.url,
    model: w.model ?? null,
    protocol: w.protocol ?? null,
    health: w.health,
    health_message: w.healthMessage,
    draining: w.draining,
    disabled: w.spec.disabled ?? false,
    labels: w.spec.labels ?? {},
    in_flight: w.inFlight,
    circuit: w.circuit.state,
    load: w.load ?? null,
    max_context_length: w.modelInfo?.maxContextLength ?? null,
    created_at: Math.floor(w.createdAt / 1000),
  };
}
