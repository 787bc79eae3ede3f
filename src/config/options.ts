/**
 * Every gateway setting in one table: its CLI flag, environment variable, config-file key, type,
 * default and help text. The loader, the validator and `--help` are all generated from it, so a
 * setting cannot exist in one place and be missing in another.
 */
import { DEFAULT_ROUTING_CONFIG as R } from '@drover/routing';
import { DEFAULT_TREE_BUDGET_TOKENS } from '@drover/radix-tree';

export type OptionType = 'string' | 'int' | 'number' | 'bool' | 'list' | 'map';

export interface OptionSpec {
  key: string;
  flag: string;
  env: string;
  type: OptionType;
  default?: string | number | boolean | string[] | Record<string, string>;
  help: string;
  choices?: readonly string[];
  min?: number;
  max?: number;
}

export const POLICIES = [
  'cache_aware',
  'round_robin',
  'random',
  'power_of_two',
  'least_load',
  'consistent_hash',
  'prefix_hash',
  'manual',
] as const;

const spec = (key: string, type: OptionType, help: string, extra: Partial<OptionSpec> = {}): OptionSpec => {
  const flag = key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  return { key, flag, env: `DROVER_${flag.replace(/-/g, '_').toUpperCase()}`, type, help, ...extra };
};

export const OPTION_SPECS: readonly OptionSpec[] = [
  spec('config', 'string', 'Path to a JSON or YAML config file (keys as camelCase option names).'),
  spec('host', 'string', 'Address the HTTP server binds to.', { default: '127.0.0.1' }),
  spec('port', 'int', 'HTTP port for the client APIs (0 picks a free port).', { default: 8080, min: 0, max: 65535 }),
  spec('workerUrls', 'list', 'Comma-separated worker URLs (grpc://host:port, grpcs://host:port, http(s)://host:port).', { default: [] }),
  spec('prefillUrls', 'list', 'Prefill workers of a disaggregated (PD) fleet, comma-separated gRPC URLs: they compute prompts and hand the KV cache to a decode worker (docs/pd.md).', { default: [] }),
  spec('decodeUrls', 'list', 'Decode workers of a disaggregated (PD) fleet, comma-separated gRPC URLs: they receive a prefill worker\'s KV cache and stream the output.', { default: [] }),
  spec('policy', 'string', 'Routing policy.', { default: 'cache_aware', choices: POLICIES }),
  spec('decodePolicy', 'string', 'Disaggregated (PD) models: how the decode worker of a pair is chosen (the prefill worker follows --policy or the model\'s policy; the decode side holds no prompt cache worth chasing, so load decides).', { default: 'power_of_two', choices: POLICIES }),
  spec('kvTransferTimeoutMs', 'int', 'Disaggregated (PD) models: after the prefill worker finished, how long the decode worker may take to produce its first token (its KV arriving) before the pair is abandoned and retried (0 = off; the TTFT timeout still applies).', { default: 30_000, min: 0 }),
  spec('tokenizer', 'string', 'Directory with tokenizer.json and tokenizer_config.json (default: the bundled Qwen3 tokenizer).'),
  spec('modelConfig', 'map', 'Per-model local model directories (tokenizer.json, tokenizer_config.json, ...): name=path, comma-separated or repeated (a map in the config file). Those models use these files instead of asking their workers (GetTokenizer).', { default: {} }),
  spec('tokenizerThreads', 'int', 'Worker threads that render and tokenize long prompts off the event loop: -1 one per core, 0 off (everything inline).', { default: -1, min: -1, max: 64 }),
  spec('tokenizerOffloadChars', 'int', 'Prompts (or texts) of at least this many characters are tokenized on the worker threads; shorter ones inline, where a thread hop would cost more.', { default: 4096, min: 1 }),
  spec('modelName', 'string', 'Serve every worker under this model name instead of the name the worker reports.'),
  spec('workerApiKey', 'string', 'API key sent to gRPC workers as "authorization: Bearer" metadata (vLLM\'s gRPC server can require one); a worker spec\'s own apiKey wins.'),
  spec('workerConnectTimeoutMs', 'int', 'Time allowed to reach a worker and detect its protocol.', { default: 5000, min: 1 }),
  spec('requestTimeoutMs', 'int', 'Total time allowed for one inference request.', { default: 600_000, min: 1 }),
  spec('healthCheckIntervalMs', 'int', 'Interval between worker health checks.', { default: 5000, min: 50 }),
  spec('healthCheckTimeoutMs', 'int', 'Timeout of one worker health check.', { default: 2000, min: 10 }),
  spec('sglangHealthCheckTimeoutMs', 'int', 'Timeout of one health check of an SGLang worker: its check generates a token, takes about a second and queues behind the load.', { default: 10_000, min: 10 }),
  spec('sglangHealthCheckIntervalMs', 'int', 'Interval between health checks of SGLang workers (each adds a generation to their load; 0 = --health-check-interval-ms).', { default: 0, min: 0 }),
  spec('drainTimeoutMs', 'int', 'How long DELETE /workers/:id waits for in-flight requests before removing.', { default: 30_000, min: 0 }),
  spec('shutdownGraceMs', 'int', 'How long SIGTERM waits for in-flight requests to finish.', { default: 30_000, min: 0 }),
  spec('shutdownDelayMs', 'int', 'After SIGTERM, how long to keep serving with readiness 503 before refusing new requests (lets load balancers notice).', { default: 0, min: 0 }),
  spec('maxRequestBytes', 'int', 'Largest accepted request body in bytes (larger: 413).', { default: 32 * 1024 * 1024, min: 1024 }),
  spec('headerTimeoutMs', 'int', 'Client port: time allowed to receive a request\'s headers; a slower client gets 408 and is disconnected (at most --body-timeout-ms).', { default: 10_000, min: 100 }),
  spec('bodyTimeoutMs', 'int', 'Client port: time allowed to receive a whole request, headers and body; a body sent too slowly or never finished gets 408 and the connection is closed. Bounds receiving only (a generation is bounded by --request-timeout-ms).', { default: 60_000, min: 100 }),
  spec('keepAliveTimeoutMs', 'int', 'Client port: how long an idle keep-alive connection is kept between requests (keep it above a load balancer\'s idle timeout, e.g. 60 s on AWS ALB).', { default: 65_000, min: 100 }),
  spec('logLevel', 'string', 'Log level.', { default: 'info', choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] }),
  spec('cacheThreshold', 'number', 'cache_aware: fraction of the prompt a worker must hold to win on affinity.', { default: R.cacheThreshold, min: 0, max: 1 }),
  spec('balanceAbsThreshold', 'int', 'cache_aware load guard: in-flight requests above the least-loaded worker before affinity is overridden.', { default: R.balanceAbsThreshold, min: 0 }),
  spec('balanceRelThreshold', 'number', 'cache_aware load guard: ratio to the least-loaded worker before affinity is overridden.', { default: R.balanceRelThreshold, min: 1 }),
  spec('coldBalanceAbsThreshold', 'int', 'cache_aware load guard: in-flight requests above a worker holding none of the prompt before affinity is overridden (a cold move costs a full prefill).', { default: R.coldBalanceAbsThreshold, min: 0 }),
  spec('prefixHashTokens', 'int', 'prefix_hash: leading prompt tokens that form the hash key.', { default: R.prefixHashTokens, min: 1 }),
  spec('boundedLoadFactor', 'number', 'consistent_hash / prefix_hash: a worker takes a key only below this multiple of the mean in-flight load.', { default: R.boundedLoadFactor, min: 1 }),
  spec('virtualNodes', 'int', 'consistent_hash / prefix_hash: virtual nodes per worker on the hash ring.', { default: R.virtualNodes, min: 1, max: 10_000 }),
  spec('loadSampleSize', 'int', 'least_load / prefix_hash: fleets up to this size are scanned exactly, larger ones sampled this many times per request.', { default: R.loadSampleSize, min: 1 }),
  spec('stickyIdleMs', 'int', 'manual: a sticky session (x-session-id) forgets its worker after this long without requests.', { default: R.stickyIdleMs, min: 1 }),
  spec('maxStickySessions', 'int', 'manual: sticky sessions remembered at most (least recently used forgotten first).', { default: R.maxStickySessions, min: 1 }),
  spec('maxConcurrentRequests', 'int', 'Inference requests served at once by this node (0 = no cap).', { default: 1024, min: 0 }),
  spec('maxQueuedRequests', 'int', 'Inference requests allowed to wait for capacity; beyond → 429 with Retry-After.', { default: 1024, min: 0 }),
  spec('queueTimeoutMs', 'int', 'How long a request may wait for capacity before 408.', { default: 30_000, min: 1 }),
  spec('rateLimitRpm', 'int', 'Requests per minute per API key (0 = off). Mesh-wide when the mesh is on.', { default: 0, min: 0 }),
  spec('rateLimitTpm', 'int', 'Prompt+completion tokens per minute per API key (0 = off). Mesh-wide when the mesh is on.', { default: 0, min: 0 }),
  spec('maxImageBytes', 'int', 'Vision models: the largest image accepted per image_url part, encoded (larger → 400).', { default: 20 * 1024 * 1024, min: 1 }),
  spec('maxImagesPerRequest', 'int', 'Vision models: images accepted per request.', { default: 16, min: 1, max: 256 }),
  spec('remoteImages', 'bool', 'Vision models: fetch http(s) image URLs (else only inline data: URLs are accepted).', { default: true }),
  spec('imageFetchTimeoutMs', 'int', 'Vision models: time allowed to download one image URL.', { default: 10_000, min: 1 }),
  spec('maxRetries', 'int', 'Retries on another worker for failures before any output was streamed.', { default: 2, min: 0, max: 10 }),
  spec('retryBackoffMs', 'int', 'Base of the exponential retry backoff (with full jitter).', { default: 50, min: 0 }),
  spec('retryBackoffMaxMs', 'int', 'Cap of the retry backoff.', { default: 2000, min: 0 }),
  spec('ttftTimeoutMs', 'int', 'Time to first token before the attempt is abandoned and retried elsewhere (0 = off).', { default: 60_000, min: 0 }),
  spec('streamIdleTimeoutMs', 'int', 'Once output started, the longest silence from a worker before the attempt is abandoned (a stalled engine; 0 = off). Streams then end with an error event; buffered requests are retried elsewhere.', { default: 60_000, min: 0 }),
  spec('circuitFailureThreshold', 'int', 'Consecutive failures that open a worker\'s circuit.', { default: 5, min: 1 }),
  spec('circuitCooldownMs', 'int', 'How long an open circuit waits before half-open probes.', { default: 10_000, min: 1 }),
  spec('circuitSuccessThreshold', 'int', 'Half-open successes that close the circuit.', { default: 2, min: 1 }),
  spec('healthFailureThreshold', 'int', 'Consecutive failed health checks before a worker is marked failed.', { default: 3, min: 1 }),
  spec('healthSuccessThreshold', 'int', 'Consecutive healthy checks before a worker that is not ready is routed to again.', { default: 1, min: 1 }),
  spec('circuitHalfOpenProbes', 'int', 'Requests let through at once to a half-open worker to test it.', { default: 1, min: 1 }),
  spec('removeFailedWorkers', 'bool', 'Remove workers that reach the failed state.', { default: false }),
  spec('redisUrl', 'string', 'Redis URL for stored responses and conversations (default: in memory, per node).'),
  spec('responseTtlSeconds', 'int', 'How long stored responses are kept in Redis.', { default: 7 * 24 * 3600, min: 60 }),
  spec('metricsPort', 'int', 'Also serve /metrics on this port (0 = only on the main port).', { default: 0, min: 0, max: 65535 }),
  spec('otlpEndpoint', 'string', 'OTLP/HTTP collector base URL for traces (else the standard OTEL_EXPORTER_OTLP_* variables; off when neither is set).'),
  spec('nodeName', 'string', 'This node\'s name in the mesh and in logs (default: host:port).'),
  spec('mesh', 'bool', 'Join a mesh of gateway nodes (SWIM membership + state sync).', { default: false }),
  spec('meshPort', 'int', 'Mesh membership port (UDP for SWIM, TCP for push-pull).', { default: 7946, min: 0, max: 65535 }),
  spec('meshSyncPort', 'int', 'Mesh state-sync gRPC port (0 = mesh port + 1).', { default: 0, min: 0, max: 65535 }),
  spec('meshBind', 'string', 'Address the mesh sockets bind to.', { default: '127.0.0.1' }),
  spec('meshAdvertise', 'string', 'Address peers reach this node at (required when --mesh-bind is a wildcard; never 0.0.0.0).'),
  spec('meshKey', 'string', 'Cluster key: 32 random bytes in base64 or hex (`npm run -s keygen` prints one), the same on every node. Nodes without it cannot join or inject state. Required with --mesh unless --mesh-bind is loopback.'),
  spec('meshKeyAccept', 'list', 'More cluster keys accepted from peers but not sent with (key rotation: install the new key here on every node, then make it --mesh-key, then drop the old one from here). Also POST /mesh/keys at runtime.', { default: [] }),
  spec('meshIdentityAuthority', 'string', 'Node identities: the mesh identity authority\'s public key (base64; `npm run -s keygen identity-authority`). With it every node needs --mesh-identity, and a node can only speak as itself.'),
  spec('meshIdentity', 'string', 'Node identities: this node\'s credential (`npm run -s keygen identity NAME`), issued for --node-name. Secret.'),
  spec('meshInsecure', 'bool', 'INSECURE: run --mesh on a non-loopback --mesh-bind without --mesh-key (anyone who reaches the mesh ports can join and forge state). For isolated test networks only.', { default: false }),
  spec('meshSeeds', 'list', 'Seed peers host:port (DNS names allowed).', { default: [] }),
  spec('meshDns', 'string', 'Kubernetes headless-service DNS name: every A record is a seed, re-resolved periodically (implies --mesh-discovery dns).'),
  spec('meshDnsIntervalMs', 'int', 'How often --mesh-dns is re-resolved.', { default: 10_000, min: 100 }),
  spec('meshDiscovery', 'string', 'How to find seeds.', { default: 'static', choices: ['static', 'dns', 'hyperswarm'] }),
  spec('meshHyperswarmBootstrap', 'list', 'hyperdht bootstrap nodes host:port for --mesh-discovery hyperswarm (default: the public DHT).', { default: [] }),
  spec('meshTlsCa', 'string', 'Mesh sync mutual TLS: PEM CA bundle that signs every node\'s certificate (with --mesh-tls-cert and --mesh-tls-key; off when unset).'),
  spec('meshTlsCert', 'string', 'Mesh sync mutual TLS: this node\'s PEM certificate chain.'),
  spec('meshTlsKey', 'string', 'Mesh sync mutual TLS: this node\'s PEM private key.'),
  spec('meshTlsServerName', 'string', 'Mesh sync mutual TLS: name to verify in peers\' certificates (default: the dialed address).'),
  spec('meshTimings', 'string', 'SWIM timing preset.', { default: 'lan', choices: ['lan', 'local'] }),
  // ---- security: client keys, admin plane (issue 16) ----
  spec('auth', 'bool', 'Require an API key on every client route and the admin key on every admin route. Only --no-auth turns this off (INSECURE: anyone who reaches the port can use and reconfigure the fleet).', { default: true }),
  spec('apiKey', 'list', 'Bootstrap client API keys, comma-separated (sent as Authorization: Bearer KEY or x-api-key: KEY). More keys: POST /admin/keys.', { default: [] }),
  spec('adminKey', 'string', 'The admin key: needed for every write to workers, policies, keys and the mesh, for /workers, /admin, /mesh and /dashboard (and /metrics with --metrics-auth). Also accepted as a client key.'),
  spec('egressAllowWorkers', 'list', 'HTTP workers: CIDRs (or addresses) they may be at although loopback, link-local, private, CGNAT and metadata ranges are refused by default, e.g. 10.0.0.0/8 for a private GPU network, 127.0.0.0/8 for local workers.', { default: [] }),
  spec('egressAllowImages', 'list', 'Remote image URLs: CIDRs (or addresses) they may point at although loopback, link-local, private, CGNAT and metadata ranges are refused by default.', { default: [] }),
  spec('metricsAuth', 'bool', 'Put /metrics (and the --metrics-port listener) behind the admin key (default: open, for scrapers).', { default: false }),
  spec('kvEvents', 'bool', 'Subscribe to workers\' KV-cache events and route on their exact block index (else on the approximate tree).', { default: true }),
  spec('treeBudgetTokens', 'int', 'Routing tree budget per model, in tokens (all workers together).', { default: DEFAULT_TREE_BUDGET_TOKENS, min: 1024 }),
];

export interface GatewayConfig {
  config?: string;
  host: string;
  port: number;
  workerUrls: string[];
  prefillUrls: string[];
  decodeUrls: string[];
  policy: (typeof POLICIES)[number];
  decodePolicy: (typeof POLICIES)[number];
  kvTransferTimeoutMs: number;
  tokenizer?: string;
  /** Model name → local directory with its tokenizer files. */
  modelConfig: Record<string, string>;
  modelName?: string;
  tokenizerThreads: number;
  tokenizerOffloadChars: number;
  workerApiKey?: string;
  workerConnectTimeoutMs: number;
  requestTimeoutMs: number;
  healthCheckIntervalMs: number;
  healthCheckTimeoutMs: number;
  sglangHealthCheckTimeoutMs: number;
  sglangHealthCheckIntervalMs: number;
  drainTimeoutMs: number;
  shutdownGraceMs: number;
  shutdownDelayMs: number;
  maxRequestBytes: number;
  headerTimeoutMs: number;
  bodyTimeoutMs: number;
  keepAliveTimeoutMs: number;
  logLevel: string;
  cacheThreshold: number;
  balanceAbsThreshold: number;
  balanceRelThreshold: number;
  coldBalanceAbsThreshold: number;
  prefixHashTokens: number;
  boundedLoadFactor: number;
  virtualNodes: number;
  loadSampleSize: number;
  stickyIdleMs: number;
  maxStickySessions: number;
  treeBudgetTokens: number;
  kvEvents: boolean;
  meshTlsCa?: string;
  meshTlsCert?: string;
  meshTlsKey?: string;
  meshTlsServerName?: string;
  maxConcurrentRequests: number;
  maxQueuedRequests: number;
  queueTimeoutMs: number;
  rateLimitRpm: number;
  rateLimitTpm: number;
  maxImageBytes: number;
  maxImagesPerRequest: number;
  remoteImages: boolean;
  imageFetchTimeoutMs: number;
  maxRetries: number;
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
  ttftTimeoutMs: number;
  streamIdleTimeoutMs: number;
  circuitFailureThreshold: number;
  circuitCooldownMs: number;
  circuitSuccessThreshold: number;
  healthFailureThreshold: number;
  healthSuccessThreshold: number;
  circuitHalfOpenProbes: number;
  removeFailedWorkers: boolean;
  otlpEndpoint?: string;
  metricsPort: number;
  nodeName?: string;
  redisUrl?: string;
  responseTtlSeconds: number;
  mesh: boolean;
  meshPort: number;
  meshSyncPort: number;
  meshBind: string;
  meshAdvertise?: string;
  meshKey?: string;
  meshInsecure: boolean;
  meshIdentityAuthority?: string;
  meshIdentity?: string;
  meshKeyAccept: string[];
  meshSeeds: string[];
  meshDns?: string;
  meshDnsIntervalMs: number;
  meshDiscovery: 'static' | 'dns' | 'hyperswarm';
  meshHyperswarmBootstrap: string[];
  meshTimings: 'lan' | 'local';
  // security (issue 16)
  auth: boolean;
  apiKey: string[];
  adminKey?: string;
  metricsAuth: boolean;
  egressAllowWorkers: string[];
  egressAllowImages: string[];
}
