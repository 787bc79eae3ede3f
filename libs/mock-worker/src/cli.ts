/**
 * `npm run worker -- --port 50051 --count 4 --model qwen3-mock`: starts N mock workers on
 * consecutive ports, prints one `grpc://` URL per line, then `ready`; stops on SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_ENGINE_CONFIG } from './engine-config';
import { loadReplies, type ScriptedReply } from './server/mock-replies';
import { ENGINE_KINDS, type EngineKind } from './personality/personality';
import { startMockWorker, type MockWorker } from './server/mock-server';
import { MOCK_ROLES, type MockRole } from './pd/pd-request';

const HELP = `usage: npm run worker -- [options]

Starts mock SGLang-compatible (or vLLM-compatible) gRPC workers with a simulated engine
(continuous batching, prefix KV cache, KV events). Prints one grpc:// URL per worker, then "ready".

  --port N                   first port (default 50051; 0 picks free ports)
  --count N                  number of workers on consecutive ports (default 1)
  --host ADDR                bind address (default 127.0.0.1)
  --model NAME               served model name (default qwen3-mock)
  --max-context-length N     context length reported by GetModelInfo (default 32768)
  --protocol P               gRPC contract served: sglang or vllm (default sglang)
  --engine E                 engine imitated: mock (default: every field filled, for the demo),
                             sglang or vllm (what those servers really do: fields left at
                             defaults, page-size KV blocks, opaque hashes, no event replay,
                             INTERNAL errors, their own abort finish reasons; implies --protocol;
                             docs/engine-personalities.md)
  --kv-hash-salt S           salt of the engine's KV block hashes (vllm: a fresh one per worker)
  --kv-gap-rate X            chance a KV event batch is lost (a sequence gap; sglang/vllm: 0.002)
  --health-latency-ms N      HealthCheck answers no sooner than N ms (default 0)
  --engine-abort-rate X      fraction of requests the engine ends itself (finish reason "abort";
                             "error" for vllm) after 0-2 tokens (default 0)
  --api-key K                require "authorization: Bearer K" metadata on every RPC
  --echo                     output echoes the prompt's token ids
  --tokenizer-dir DIR        the served model's Hugging Face files (tokenizer.json,
                             tokenizer_config.json, ...): output uses its tokens and EOS, and
                             GetTokenizer sends them (default: the bundled Qwen3 tokenizer)
  --replies FILE             scripted replies: JSON lines {"match": "...", "reply": "..."}; the
                             first entry whose match occurs in the text of the prompt's last
                             message is the output, tokenized with the served model's tokenizer
                             and streamed token by token (no match: the usual generated text)
  --embedding                serve an embedding model (is_generation false: Embed only, Generate
                             refused)
  --vision                   serve a vision model (supports_vision; Generate accepts images as
                             Qwen2-VL pixel_values + image_grid_thw and validates them)
Disaggregation (prefill/decode, docs/pd.md):
  --role R                   regular (default: prefill and decode here), prefill or decode. A
                             prefill engine computes the prompt and hands its KV to a decode
                             engine through its bootstrap server; a decode engine fetches it, then
                             streams. Both need the contract's PD parameters on every request
                             (SGLang disaggregated_params, vLLM kv_transfer_params_json)
  --bootstrap-port N         prefill: the KV bootstrap server's port (default 0: a free one, one
                             per worker; reported as server_args.disaggregation_bootstrap_port)
  --kv-transfer-gbps X       link bandwidth in gigabits/s (default 100)
  --kv-transfer-latency-ms X fixed cost per transfer (default 1)
  --kv-bytes-per-token N     KV size per prompt token (default 131072: an 8B model in fp16)
  --kv-transfer-fault F      none (default), hang (the transfer never completes) or fail; on a
                             prefill engine the sender's fault, on a decode engine the receiver's
  --fail-before-first-token  every request fails (--fail-status) after its prefill (prefill) or
                             its KV transfer (decode), before any token
Engine (cost model and cache):
  --prefill-tokens-per-sec N (default ${DEFAULT_ENGINE_CONFIG.prefillTokensPerSec})
  --prefill-chunk-tokens N   (default ${DEFAULT_ENGINE_CONFIG.prefillChunkTokens})
  --decode-base-ms X         (default ${DEFAULT_ENGINE_CONFIG.decodeBaseMs})
  --decode-per-running-ms X  (default ${DEFAULT_ENGINE_CONFIG.decodePerRunningMs})
  --max-running N            (default ${DEFAULT_ENGINE_CONFIG.maxRunning})
  --kv-capacity-tokens N     (default ${DEFAULT_ENGINE_CONFIG.kvCapacityTokens})
  --block-size N             (default ${DEFAULT_ENGINE_CONFIG.blockSize})
  --eos-probability X        chance per token of EOS (default ${DEFAULT_ENGINE_CONFIG.eosProbability})
Faults (chaos):
  --fail-rate X              fraction of requests failed at admission (default 0)
  --fail-status N            gRPC status of injected failures (default 14 = UNAVAILABLE;
                             sglang/vllm: 13 = INTERNAL, as their servicers report most failures)
  --stall-after-tokens N     stop emitting after N tokens (default 0 = never)
  --crash-after-requests N   exit the process after N Generate requests (default 0 = never)
  --unhealthy                HealthCheck reports unhealthy
  --seed S                   seed for fault decisions
  -h, --help                 this text`;

const NUMERIC: Record<string, string> = {
  'prefill-tokens-per-sec': 'prefillTokensPerSec',
  'prefill-chunk-tokens': 'prefillChunkTokens',
  'decode-base-ms': 'decodeBaseMs',
  'decode-per-running-ms': 'decodePerRunningMs',
  'max-running': 'maxRunning',
  'kv-capacity-tokens': 'kvCapacityTokens',
  'block-size': 'blockSize',
  'eos-probability': 'eosProbability',
};

async function main(): Promise<void> {
  const options = {
    port: { type: 'string', default: '50051' },
    count: { type: 'string', default: '1' },
    host: { type: 'string', default: '127.0.0.1' },
    model: { type: 'string', default: 'qwen3-mock' },
    'max-context-length': { type: 'string', default: '32768' },
    protocol: { type: 'string' },
    engine: { type: 'string', default: 'mock' },
    'kv-hash-salt': { type: 'string' },
    'kv-gap-rate': { type: 'string' },
    'health-latency-ms': { type: 'string', default: '0' },
    'engine-abort-rate': { type: 'string', default: '0' },
    'api-key': { type: 'string' },
    echo: { type: 'boolean', default: false },
    vision: { type: 'boolean', default: false },
    embedding: { type: 'boolean', default: false },
    'tokenizer-dir': { type: 'string' },
    replies: { type: 'string' },
    'fail-rate': { type: 'string', default: '0' },
    'fail-status': { type: 'string' },
    'stall-after-tokens': { type: 'string', default: '0' },
    'crash-after-requests': { type: 'string', default: '0' },
    unhealthy: { type: 'boolean', default: false },
    seed: { type: 'string' },
    role: { type: 'string', default: 'regular' },
    'bootstrap-port': { type: 'string', default: '0' },
    'kv-transfer-gbps': { type: 'string' },
    'kv-transfer-latency-ms': { type: 'string' },
    'kv-bytes-per-token': { type: 'string' },
    'kv-transfer-fault': { type: 'string', default: 'none' },
    'fail-before-first-token': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
    ...Object.fromEntries(Object.keys(NUMERIC).map((k) => [k, { type: 'string' }])),
  } as const;
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ options: options as never, strict: true }).values as Record<string, string | boolean | undefined>;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${HELP}\n`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const fail = (message: string): never => {
    process.stderr.write(`${message}\n`);
    process.exit(2);
  };
  const num = (name: string): number => {
    const n = Number(values[name]);
    if (!Number.isFinite(n) || n < 0 || String(values[name]).trim() === '') fail(`--${name} must be a non-negative number, got '${values[name]}'`);
    return n;
  };
  const int = (name: string, min = 0): number => {
    const n = num(name);
    if (!Number.isInteger(n) || n < min) fail(`--${name} must be an integer >= ${min}, got '${values[name]}'`);
    return n;
  };
  const engineKind = (ENGINE_KINDS as readonly string[]).includes(String(values.engine)) ? (values.engine as EngineKind) : fail(`--engine must be one of ${ENGINE_KINDS.join(', ')}, got '${values.engine}'`);
  const protocol = values.protocol === undefined ? (engineKind === 'vllm' ? 'vllm' : 'sglang') : values.protocol === 'sglang' || values.protocol === 'vllm' ? values.protocol : fail(`--protocol must be sglang or vllm, got '${values.protocol}'`);
  if (engineKind !== 'mock' && protocol !== engineKind) fail(`--engine ${engineKind} serves the ${engineKind} contract; drop --protocol ${protocol}`);
  const rate = (name: string): number => {
    const x = num(name);
    if (x > 1) fail(`--${name} must be between 0 and 1, got '${values[name]}'`);
    return x;
  };
  const engine: Record<string, number> = {};
  for (const [flag, key] of Object.entries(NUMERIC)) if (values[flag] !== undefined) engine[key] = num(flag);
  const port = int('port');
  const count = int('count', 1);
  if (port > 0 && port + count - 1 > 65535) fail(`--port ${port} --count ${count} reaches beyond 65535`);
  const maxContextLength = int('max-context-length', 1);
  const crashAfterRequests = int('crash-after-requests');
  const role = (MOCK_ROLES as readonly string[]).includes(String(values.role)) ? (values.role as MockRole) : fail(`--role must be one of ${MOCK_ROLES.join(', ')}, got '${values.role}'`);
  const kvTransferFault = ['none', 'hang', 'fail'].includes(String(values['kv-transfer-fault'])) ? (values['kv-transfer-fault'] as 'none' | 'hang' | 'fail') : fail(`--kv-transfer-fault must be none, hang or fail, got '${values['kv-transfer-fault']}'`);
  const kvTransfer: Record<string, number> = {};
  if (values['kv-transfer-gbps'] !== undefined) {
    kvTransfer.gbps = num('kv-transfer-gbps');
    if (kvTransfer.gbps <= 0) fail('--kv-transfer-gbps must be above 0');
  }
  if (values['kv-transfer-latency-ms'] !== undefined) kvTransfer.latencyMs = num('kv-transfer-latency-ms');
  if (values['kv-bytes-per-token'] !== undefined) kvTransfer.bytesPerToken = int('kv-bytes-per-token', 1);
  const bootstrapPort = int('bootstrap-port');
  if (bootstrapPort > 0 && bootstrapPort + count - 1 > 65535) fail(`--bootstrap-port ${bootstrapPort} --count ${count} reaches beyond 65535`);
  if (role !== 'prefill' && bootstrapPort > 0) fail('--bootstrap-port is for --role prefill');
  const faults = { failBeforeFirstToken: values['fail-before-first-token'] === true, kvTransferFault, failRate: rate('fail-rate'), failStatus: values['fail-status'] === undefined ? undefined : int('fail-status'), stallAfterTokens: int('stall-after-tokens'), unhealthy: values.unhealthy === true, engineAbortRate: rate('engine-abort-rate') };
  let replies: ScriptedReply[] = [];
  try {
    replies = values.replies === undefined ? [] : loadReplies(String(values.replies));
  } catch (err) {
    fail(`--replies: ${(err as Error).message}`);
  }
  const workers: MockWorker[] = [];
  for (let i = 0; i < count; i++) {
    const w = await startMockWorker({
      ...engine,
      port: port === 0 ? 0 : port + i,
      host: String(values.host),
      model: String(values.model),
      maxContextLength,
      protocol,
      echo: values.echo === true,
      vision: values.vision === true,
      embedding: values.embedding === true,
      tokenizerDir: values['tokenizer-dir'] as string | undefined,
      replies,
      crashAfterRequests,
      seed: values.seed as string | undefined,
      faults,
      engine: engineKind,
      kvHashSalt: values['kv-hash-salt'] as string | undefined,
      kvGapRate: values['kv-gap-rate'] === undefined ? undefined : rate('kv-gap-rate'),
      healthLatencyMs: int('health-latency-ms'),
      apiKey: values['api-key'] as string | undefined,
      role,
      bootstrapPort: bootstrapPort === 0 ? 0 : bootstrapPort + i,
      kvTransfer,
    });
    workers.push(w);
    process.stdout.write(`${w.url}\n`);
    if (role === 'prefill') process.stderr.write(`${w.url}: prefill engine, KV bootstrap port ${w.bootstrapPort}\n`);
  }
  process.stdout.write('ready\n');
  const stop = async (signal: string) => {
    process.stderr.write(`${signal}: stopping ${workers.length} worker(s)\n`);
    await Promise.all(workers.map((w) => w.close()));
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err) => {
  process.stderr.write(`mock worker failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
