/**
 * Every metric the gateway exports, declared once: name, type, help, labels and buckets. The
 * prom-client registry, the `Metrics` adapter handed to libraries and docs/metrics.md all follow
 * this table.
 */
export type MetricType = 'counter' | 'gauge' | 'histogram';

export interface MetricSpec {
  name: string;
  type: MetricType;
  help: string;
  labels: readonly string[];
  buckets?: readonly number[];
}

/** 1 ms to 1 h: LLM requests range from a cached tokenize to an hour-long generation. */
export const LATENCY_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600] as const;
const TOKEN_BUCKETS = [1, 8, 32, 128, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072] as const;
const BYTE_BUCKETS = [128, 1024, 8192, 65536, 524288, 4194304, 33554432] as const;
const RATIO_BUCKETS = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1] as const;

const m = (name: string, type: MetricType, help: string, labels: readonly string[] = [], buckets?: readonly number[]): MetricSpec => ({ name, type, help, labels, buckets });

export const METRIC_CATALOG: readonly MetricSpec[] = [
  // HTTP
  m('drover_http_requests_total', 'counter', 'HTTP requests by route, method and status.', ['route', 'method', 'status']),
  m('drover_http_request_duration_seconds', 'histogram', 'HTTP request duration until the response ended.', ['route', 'method'], LATENCY_BUCKETS_S),
  m('drover_http_requests_in_flight', 'gauge', 'HTTP requests being served.'),
  m('drover_http_request_bytes', 'histogram', 'Request body size.', ['route'], BYTE_BUCKETS),
  m('drover_http_response_bytes', 'histogram', 'Response body size (non-streaming responses).', ['route'], BYTE_BUCKETS),
  // Inference
  m('drover_inference_requests_total', 'counter', 'Inference requests finished, by model, worker and finish reason.', ['model', 'worker', 'finish_reason']),
  m('drover_inference_errors_total', 'counter', 'Inference requests that failed, by model and error code.', ['model', 'code']),
  m('drover_inference_client_aborts_total', 'counter', 'Requests abandoned by the client before completion.', ['model', 'worker']),
  m('drover_inference_ttft_seconds', 'histogram', 'Time to first token.', ['model', 'worker'], LATENCY_BUCKETS_S),
  m('drover_inference_tpot_seconds', 'histogram', 'Time per output token after the first.', ['model', 'worker'], LATENCY_BUCKETS_S),
  m('drover_inference_e2e_seconds', 'histogram', 'End-to-end request latency.', ['model', 'worker'], LATENCY_BUCKETS_S),
  m('drover_inference_prompt_tokens', 'histogram', 'Prompt tokens per request.', ['model'], TOKEN_BUCKETS),
  m('drover_inference_prompt_tokens_total', 'counter', 'Prompt tokens.', ['model', 'worker']),
  m('drover_inference_completion_tokens_total', 'counter', 'Completion tokens.', ['model', 'worker']),
  m('drover_inference_cached_tokens_total', 'counter', 'Prompt tokens served from the engine prefix cache.', ['model', 'worker']),
  // Prefill/decode disaggregation
  m('drover_pd_kv_transfer_seconds', 'histogram', 'Disaggregated requests: from the prefill worker finishing to the decode worker\'s first token (the KV transfer and the decode engine\'s queue).', ['model'], LATENCY_BUCKETS_S),
  m('drover_pd_pair_failures_total', 'counter', 'Disaggregated attempts that failed before the first token, by the side held responsible (prefill, decode, both: the transfer timed out, unclear: the decode failed while the prefill was at work).', ['model', 'side']),
  // Routing
  m('drover_routing_decisions_total', 'counter', 'Routing decisions by policy and outcome (cache_hit, load_guard, miss, policy).', ['model', 'policy', 'outcome']),
  m('drover_routing_match_ratio', 'histogram', 'Fraction of the prompt matched in the chosen worker\'s prefix tree.', ['model', 'policy'], RATIO_BUCKETS),
  m('drover_routing_tree_nodes', 'gauge', 'Nodes in the routing tree.', ['model']),
  m('drover_routing_tree_tokens', 'gauge', 'Tokens held in the routing tree.', ['model']),
  m('drover_routing_tree_evictions_total', 'counter', 'Routing tree LRU evictions.', ['model']),
  // Workers
  m('drover_worker_health', 'gauge', 'Worker health state (1 for the current state).', ['worker', 'state']),
  m('drover_worker_circuit_state', 'gauge', 'Circuit breaker state (1 for the current state).', ['worker', 'state']),
  m('drover_worker_in_flight', 'gauge', 'Requests in flight on a worker from this node.', ['worker']),
  m('drover_worker_awaiting_first_token', 'gauge', 'Requests in flight on a worker from this node that have not received their first token yet (waiting for or in prefill).', ['worker']),
  m('drover_worker_retries_total', 'counter', 'Requests retried on another worker.', ['model']),
  m('drover_worker_errors_total', 'counter', 'Worker call errors by gRPC status.', ['worker', 'grpc_status']),
  m('drover_worker_kv_event_sequence', 'gauge', 'Last KV event batch sequence number applied from the worker (compare with the engine\'s own to see lag).', ['worker']),
  m('drover_worker_kv_event_lag_seconds', 'gauge', 'Age of the last KV event batch when it was applied (engine timestamp to gateway; includes clock skew between hosts).', ['worker']),
  m('drover_worker_kv_event_gaps_total', 'counter', 'Sequence gaps in a worker\'s KV event stream (each forces a resubscribe and rebuild).', ['worker']),
  // Tokenizer
  m('drover_tokenizer_encode_seconds', 'histogram', 'Prompt encode duration (including chat template).', [], LATENCY_BUCKETS_S),
  m('drover_tokenizer_decode_seconds', 'histogram', 'Incremental detokenization time per request (stop handling included), summed over its chunks.', [], LATENCY_BUCKETS_S),
  m('drover_image_preprocess_seconds', 'histogram', 'Vision requests: time to load (decode a data: URL or download) and preprocess one image into patches.', [], LATENCY_BUCKETS_S),
  m('drover_image_rejected_total', 'counter', 'Vision requests: images refused, by reason (bad_source, too_large, undecodable, bad_geometry, too_many).', ['reason']),
  m('drover_tokenizer_cache_hits_total', 'counter', 'Tokenizer cache hits by level.', ['level']),
  m('drover_tokenizer_cache_misses_total', 'counter', 'Tokenizer cache misses by level.', ['level']),
  m('drover_tokenizer_cache_bytes', 'gauge', 'Bytes held by the tokenizer caches.', ['level']),
  // Mesh
  m('drover_mesh_members', 'gauge', 'Mesh members by state.', ['state']),
  m('drover_swim_suspicions_total', 'counter', 'Members this node suspected.'),
  m('drover_swim_refutations_total', 'counter', 'Suspicions of this node that it refuted.'),
  m('drover_swim_probes_total', 'counter', 'SWIM probes by result.', ['result']),
  m('drover_swim_fallback_probe_acks_total', 'counter', 'Probes answered only over the TCP fallback path (datagrams lost).'),
  m('drover_mesh_oversized_messages_total', 'counter', 'Sync messages too large for one frame, by type.', ['type']),
  m('drover_mesh_snapshots_sent_total', 'counter', 'Routing-shard snapshots sent to peers too far behind or new.'),
  m('drover_mesh_anti_entropy_repairs_total', 'counter', 'Routing-shard repairs anti-entropy asked a peer for (snapshot: same version, other content digest, or stuck on another epoch; resend: stuck behind).', ['kind']),
  m('drover_mesh_gossip_bytes_total', 'counter', 'Membership (SWIM) bytes by direction.', ['direction']),
  m('drover_mesh_dropped_messages_total', 'counter', 'Mesh packets or messages dropped, by reason.', ['reason']),
  m('drover_mesh_sync_lag_ops', 'gauge', 'Routing ops a peer has not acknowledged.', ['peer']),
  m('drover_mesh_sync_bytes_total', 'counter', 'State-sync bytes by kind (delta, snapshot, doc, load) and direction.', ['kind', 'direction']),
  m('drover_mesh_shard_version', 'gauge', 'Latest sequence number seen per shard origin.', ['origin']),
  // Process
  m('drover_event_loop_utilization', 'gauge', 'Event-loop utilization over the last scrape interval (0..1).'),
  ...(['p50', 'p90', 'p99', 'max'] as const).map((q) =>
    m(`drover_event_loop_delay_${q}_seconds`, 'gauge', `Event-loop delay ${q} since the last scrape (1 ms sampling timer, its own period subtracted).`),
  ),
];

/** A process or Node.js runtime series: prom-client's defaults, which the catalog above does not declare. */
export interface RuntimeMetricSpec {
  name: string;
  type: MetricType;
  help: string;
}

/**
 * prom-client's default process and runtime metrics, exported under their standard names (no
 * prefix) so stock Node.js dashboards and alerts work unchanged. collectDefaultMetrics registers
 * them; this list is what the docs and the Grafana dashboard's check read, and a test holds it to
 * what the registry actually exports.
 */
export const RUNTIME_METRICS: readonly RuntimeMetricSpec[] = [
  { name: 'process_cpu_user_seconds_total', type: 'counter', help: 'User CPU time, seconds.' },
  { name: 'process_cpu_system_seconds_total', type: 'counter', help: 'System CPU time, seconds.' },
  { name: 'process_cpu_seconds_total', type: 'counter', help: 'User and system CPU time, seconds.' },
  { name: 'process_start_time_seconds', type: 'gauge', help: 'Process start time since the Unix epoch, seconds.' },
  { name: 'process_resident_memory_bytes', type: 'gauge', help: 'Resident memory (RSS).' },
  { name: 'process_virtual_memory_bytes', type: 'gauge', help: 'Virtual memory size.' },
  { name: 'process_heap_bytes', type: 'gauge', help: 'Process heap size.' },
  { name: 'process_open_fds', type: 'gauge', help: 'Open file descriptors.' },
  { name: 'process_max_fds', type: 'gauge', help: 'File descriptor limit.' },
  ...['', '_min', '_max', '_mean', '_stddev', '_p50', '_p90', '_p99'].map((s) => ({
    name: `nodejs_eventloop_lag${s}_seconds`,
    type: 'gauge' as const,
    help: `Event-loop lag${s ? ` ${s.slice(1)}` : ''} as prom-client samples it (a 10 ms timer, its period included: an idle loop reads about 10 ms; see drover_event_loop_delay_*).`,
  })),
  { name: 'nodejs_active_resources', type: 'gauge', help: 'Resources keeping the event loop alive, by type.' },
  { name: 'nodejs_active_handles', type: 'gauge', help: 'Active libuv handles, by type.' },
  { name: 'nodejs_active_requests', type: 'gauge', help: 'Active libuv requests, by type.' },
  { name: 'nodejs_heap_size_total_bytes', type: 'gauge', help: 'V8 heap size.' },
  { name: 'nodejs_heap_size_used_bytes', type: 'gauge', help: 'V8 heap used.' },
  { name: 'nodejs_external_memory_bytes', type: 'gauge', help: 'Memory of C++ objects bound to JavaScript objects (Buffers among them).' },
  { name: 'nodejs_heap_space_size_total_bytes', type: 'gauge', help: 'V8 heap space size, by space.' },
  { name: 'nodejs_heap_space_size_used_bytes', type: 'gauge', help: 'V8 heap space used, by space.' },
  { name: 'nodejs_heap_space_size_available_bytes', type: 'gauge', help: 'V8 heap space available, by space.' },
  { name: 'nodejs_version_info', type: 'gauge', help: 'Node.js version (labels version, major, minor, patch).' },
  { name: 'nodejs_gc_duration_seconds', type: 'histogram', help: 'Garbage collection duration, by kind (major, minor, incremental, weakcb).' },
];

/**
 * prom-client gauges named *_total, which Prometheus' naming rules (promtool) reject for a gauge:
 * not exported. Their labelled siblings (nodejs_active_handles etc.) sum to the same figure.
 */
export const DROPPED_RUNTIME_METRICS: readonly string[] = ['nodejs_active_resources_total', 'nodejs_active_handles_total', 'nodejs_active_requests_total'];
