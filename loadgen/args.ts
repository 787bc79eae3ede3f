import { parseArgs } from 'node:util';
import type { RunConfig } from './runner';
import { BUILTIN_WORKLOADS, readJsonl, type WorkloadName } from './workloads';

export const HELP = `usage: npm run loadgen -- --url URL [--url URL ...] --model MODEL [options]

Target
  --url URL                 OpenAI-compatible base URL, with or without /v1 (repeat to spread load)
  --spread request|session  rotate URLs per request (default) or keep each conversation on one URL
  --model NAME              model name to request (required)
  --api chat|completions    /v1/chat/completions (default) or /v1/completions
  --stream / --no-stream    SSE streaming (default) or one JSON answer
  --max-tokens N            max_tokens per request (default 64)
  --api-key KEY             sent as Authorization: Bearer KEY
  --timeout 60s             per-request timeout (default 60s)
Load (one of --rps / --concurrency; one or both of --duration / --requests)
  --rps R                   open loop: Poisson arrivals at R requests/s; schedule lag is reported
  --concurrency C           closed loop: C requests in flight (default 4 when --rps is not given)
  --duration 60s            stop issuing requests after this long
  --requests N              stop after N requests
  --ramp 10s                ramp up over this long (open loop: the rate; closed loop: the workers)
  --burst 10x@20s+10s       10x the rate (or the concurrency) from 20 s for 10 s
  --max-connections N       cap on requests/connections in flight (default 256)
  --deadline 10m            hard stop for the whole run (default: duration + timeout + 5s, or 1h)
  --workload W              multiturn (default) | shared-prefix | random | long-context | file:PATH.jsonl
  --seed S                  seed for prompts and arrivals (default 1)
Output
  --json FILE               full result as JSON
  --html FILE               self-contained HTML report with charts
  --progress-every 1s       progress interval on stderr (default 1s on a terminal, 5s otherwise)
  --quiet                   no progress output
  -h, --help                this text

Durations: 500ms, 30s, 2m, 1h (a bare number is seconds).`;

/** A problem with the command line: the CLI prints it with the usage and exits 2. */
export class UsageError extends Error {}

export interface CliOptions {
  config: RunConfig;
  json?: string;
  html?: string;
  quiet: boolean;
  progressEveryMs?: number;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function parseDuration(text: string, flag: string, allowZero = false): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new UsageError(`--${flag}: '${text}' is not a duration (e.g. 500ms, 30s, 2m)`);
  const ms = Number(m[1]) * UNITS[m[2] ?? 's'];
  if (ms <= 0 && !(allowZero && ms === 0)) throw new UsageError(`--${flag} must be greater than zero`);
  return ms;
}

function positive(text: string | undefined, flag: string, integer = false): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw new UsageError(`--${flag} must be a positive ${integer ? 'integer' : 'number'}, got '${text}'`);
  return n;
}

function oneOf<T extends string>(value: string, flag: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`--${flag} must be ${allowed.join(' or ')}, got '${value}'`);
  return value as T;
}

function checkUrl(u: string): void {
  let parsed: URL;
  try {
    parsed = new URL(u);
  } catch {
    throw new UsageError(`--url '${u}' is not a URL`);
  }
  if (!['http:', 'https:'].includes(parsed.protocol)) throw new UsageError(`--url '${u}' must be http(s)`);
}

function parseBurst(text: string): NonNullable<RunConfig['burst']> {
  const m = /^(\d+(?:\.\d+)?)x@([\d.]+(?:ms|s|m|h)?)\+([\d.]+(?:ms|s|m|h)?)$/.exec(text);
  if (!m) throw new UsageError(`--burst must look like FACTORx@START+LENGTH, e.g. 10x@20s+10s; got '${text}'`);
  const factor = Number(m[1]);
  if (factor <= 0) throw new UsageError('--burst factor must be greater than zero');
  return { factor, atMs: parseDuration(m[2], 'burst', true), durationMs: parseDuration(m[3], 'burst') };
}

const OPTIONS = {
  url: { type: 'string', multiple: true },
  spread: { type: 'string', default: 'request' },
  model: { type: 'string' },
  api: { type: 'string', default: 'chat' },
  stream: { type: 'boolean' },
  'no-stream': { type: 'boolean' },
  'max-tokens': { type: 'string', default: '64' },
  'api-key': { type: 'string' },
  timeout: { type: 'string', default: '60s' },
  rps: { type: 'string' },
  concurrency: { type: 'string' },
  duration: { type: 'string' },
  requests: { type: 'string' },
  ramp: { type: 'string' },
  burst: { type: 'string' },
  'max-connections': { type: 'string', default: '256' },
  deadline: { type: 'string' },
  workload: { type: 'string', default: 'multiturn' },
  seed: { type: 'string', default: '1' },
  json: { type: 'string' },
  html: { type: 'string' },
  'progress-every': { type: 'string' },
  quiet: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** Parses and validates the command line; throws UsageError on anything it cannot honour. */
export function parseCli(argv: string[]): CliOptions | 'help' {
  let values: ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>['values'];
  try {
    values = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return 'help';
  const urls = values.url ?? [];
  if (urls.length === 0) throw new UsageError('--url is required');
  urls.forEach(checkUrl);
  if (!values.model) throw new UsageError('--model is required');
  if (values.stream && values['no-stream']) throw new UsageError('give --stream or --no-stream, not both');
  const workload = values.workload;
  if (!(BUILTIN_WORKLOADS as readonly string[]).includes(workload) && !(workload.startsWith('file:') && workload.length > 5)) {
    throw new UsageError(`--workload must be ${BUILTIN_WORKLOADS.join(', ')} or file:PATH.jsonl; got '${workload}'`);
  }
  if (workload.startsWith('file:')) {
    try {
      readJsonl(workload.slice('file:'.length));
    } catch (err) {
      throw new UsageError(`--workload: ${(err as Error).message}`);
    }
  }
  const rps = positive(values.rps, 'rps');
  const concurrencyFlag = positive(values.concurrency, 'concurrency', true);
  if (rps !== undefined && concurrencyFlag !== undefined) throw new UsageError('give either --rps (open loop) or --concurrency (closed loop), not both');
  const durationMs = values.duration === undefined ? undefined : parseDuration(values.duration, 'duration');
  const requests = positive(values.requests, 'requests', true);
  if (durationMs === undefined && requests === undefined) throw new UsageError('give --duration or --requests (the run must end by itself)');
  const maxConnections = positive(values['max-connections'], 'max-connections', true)!;
  const concurrency = rps === undefined ? (concurrencyFlag ?? 4) : undefined;
  if (concurrency !== undefined && concurrency > maxConnections) throw new UsageError(`--concurrency ${concurrency} exceeds --max-connections ${maxConnections}; raise --max-connections`);
  const seed = Number(values.seed);
  if (!Number.isSafeInteger(seed)) throw new UsageError(`--seed must be an integer, got '${values.seed}'`);
  return {
    config: {
      urls,
      model: values.model,
      api: oneOf(values.api, 'api', ['chat', 'completions'] as const),
      stream: !values['no-stream'],
      maxTokens: positive(values['max-tokens'], 'max-tokens', true)!,
      apiKey: values['api-key'],
      seed,
      timeoutMs: parseDuration(values.timeout, 'timeout'),
      rps,
      concurrency,
      durationMs,
      requests,
      rampMs: values.ramp === undefined ? undefined : parseDuration(values.ramp, 'ramp'),
      burst: values.burst === undefined ? undefined : parseBurst(values.burst),
      workload: workload as WorkloadName,
      spread: oneOf(values.spread, 'spread', ['request', 'session'] as const),
      maxConnections,
      deadlineMs: values.deadline === undefined ? undefined : parseDuration(values.deadline, 'deadline'),
    },
    json: values.json,
    html: values.html,
    quiet: values.quiet,
    progressEveryMs: values['progress-every'] === undefined ? undefined : parseDuration(values['progress-every'], 'progress-every'),
  };
}
