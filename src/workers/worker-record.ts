import type { ModelInfo, WorkerClient, WorkerLoad, WorkerProtocol } from '@drover/worker-proto';
import type { CircuitBreaker } from './circuit-breaker';
import type { HttpUpstreamClient } from './http-upstream-client';
import type { WorkerKind } from './worker-url';

/**
 * What an engine does with a request: `regular` engines prefill and decode (co-located); in a
 * disaggregated (PD) fleet `prefill` engines compute the prompt's KV and hand it to a `decode`
 * engine, which streams the output. Requests for a model with both pools are served as pairs.
 */
export const WORKER_ROLES = ['regular', 'prefill', 'decode'] as const;
export type WorkerRole = (typeof WORKER_ROLES)[number];

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
  /** API key sent as `authorization: Bearer` metadata on every call (else --worker-api-key). */
  apiKey?: string;
  /** Prefill/decode disaggregation role (default regular). gRPC workers only. */
  role?: WorkerRole;
  /**
   * SGLang prefill workers: the port of their KV bootstrap server, sent to both sides of a pair.
   * Unset: what the engine reports (server_args.disaggregation_bootstrap_port), else SGLang's 8998.
   */
  bootstrapPort?: number;
}

export function roleOf(w: { spec: WorkerSpec }): WorkerRole {
  return w.spec.role ?? 'regular';
}

export interface WorkerRecord {
  readonly id: string;
  spec: WorkerSpec;
  /** From the URL scheme: grpc(s):// workers take token ids, http(s):// ones are proxied. */
  kind: WorkerKind;
  /** The gRPC client (grpc workers, once connected). */
  client: WorkerClient | undefined;
  /** The OpenAI-compatible HTTP client (http workers, once their model list was read). */
  http: HttpUpstreamClient | undefined;
  /** The model name the HTTP upstream itself serves (what a proxied body's `model` is set to). */
  upstreamModel: string | undefined;
  protocol: WorkerProtocol | undefined;
  modelInfo: ModelInfo | undefined;
  /** The model name clients use to reach this worker. */
  model: string | undefined;
  health: WorkerHealth;
  healthMessage: string;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
  draining: boolean;
  /** Requests this node has dispatched to the worker and not yet released. */
  inFlight: number;
  /**
   * Of those, the ones with no first token (or first byte, for HTTP workers) yet: waiting for or
   * in prefill at the engine. Always ≤ `inFlight`; published to the mesh as the load's `queued`.
   */
  awaitingFirstToken: number;
  circuit: CircuitBreaker;
  load: WorkerLoad | undefined;
  /** The KV bootstrap port the engine reported (SGLang prefill workers; see WorkerSpec.bootstrapPort). */
  reportedBootstrapPort: number | undefined;
  /** The disaggregation role the engine reports (GetServerInfo); undefined when it does not say. */
  reportedRole: WorkerRole | undefined;
  createdAt: number;
  lastCheckedAt: number | undefined;
}

/** Connected over the worker's own kind of client. */
export function isConnected(w: WorkerRecord): boolean {
  return w.kind === 'http' ? w.http !== undefined : w.client !== undefined;
}

/** Healthy and accepting new requests (the circuit aside). */
export function isServing(w: WorkerRecord): boolean {
  return w.health === 'ready' && !w.draining && !w.spec.disabled && isConnected(w);
}

export function isRoutable(w: WorkerRecord): boolean {
  return isServing(w) && w.circuit.canPass();
}

export function workerView(w: WorkerRecord): Record<string, unknown> {
  return {
    id: w.id,
    url: w.spec.url,
    kind: w.kind,
    model: w.model ?? null,
    upstream_model: w.kind === 'http' ? (w.upstreamModel ?? null) : undefined,
    protocol: w.protocol ?? null,
    health: w.health,
    health_message: w.healthMessage,
    draining: w.draining,
    disabled: w.spec.disabled ?? false,
    labels: w.spec.labels ?? {},
    role: roleOf(w),
    engine_role: w.kind === 'grpc' ? (w.reportedRole ?? null) : undefined,
    bootstrap_port: roleOf(w) === 'prefill' ? (w.spec.bootstrapPort ?? w.reportedBootstrapPort ?? null) : undefined,
    in_flight: w.inFlight,
    awaiting_first_token: w.awaitingFirstToken,
    circuit: w.circuit.state,
    load: w.load ?? null,
    max_context_length: w.modelInfo?.maxContextLength ?? null,
    created_at: Math.floor(w.createdAt / 1000),
  };
}
