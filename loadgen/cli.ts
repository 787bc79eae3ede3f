#!/usr/bin/env node
/**
 * `npm run loadgen -- --url http://127.0.0.1:8080 --model M [options]`: drives any
 * OpenAI-compatible endpoint with LLM traffic and reports TTFT, ITL, end-to-end latency,
 * throughput, errors and cached-token ratio. See loadgen/README.md.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { renderHtml } from './html-report';
import { buildReport, renderText } from './report';
import { runLoad, type RunConfig } from './runner';
import type { WorkloadName } from './workloads';

const HELP = `usage: npm run loadgen -- --url URL [--url URL ...] --model MODEL [options]

Target
  --url URL              OpenAI-compatible base URL (repeat to spread load over several)
  --spread request|session   spread per request (default) or keep a conversation on one URL
  --model NAME           model name to request (required)
  --api chat|completions (default chat)
  --stream / --no-stream (default --stream)
  --max-tokens N         (default 64)
  --api-key KEY          sent as Authorization: Bearer KEY
  --timeout 60s          per-request timeout
Load
  --rps R                open loop: Poisson arrivals at R requests/s (schedule lag is reported)
  --concurrency C        closed loop: C requests in flight (default 4 when --rps is not given)
  --duration 60s         stop after this long, or
  --requests N           stop after N requests
  --ramp 10s             open loop: ramp the rate up from 0 over this long
  --burst 10x@20s+10s    open loop: 10x the rate from 20 s for 10 s
  --max-connections N    cap on concurrent connections (default 256)
  --workload W           multiturn (default) | shared-prefix | random | long-context | file:PATH.jsonl
  --seed S               seed for prompts and arrivals (default 1)
Output
  --json FILE            full result as JSON
  --html FILE            self-contained HTML report with charts
  --quiet                no progress output
  -h, --help`;

function duration(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text);
  if (!m) throw new UsageError(`--${flag}: '${text}' is not a duration (e.g. 500ms, 30s, 2m)`);
  const n = Number(m[1]);
  return m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000;
}

class UsageError extends Error {}

function positive(text: string | undefined, flag: string, integer = false): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw new UsageError(`--${flag} must be a positive ${integer ? 'integer' : 'number'}, got '${text}'`);
  return n;
}

export function parseCli(argv: string[]): { config: RunConfig; json?: string; html?: string; quiet: boolean } | 'help' {
  let values: Record<string, any>;
  try {
    values = parseArgs({
      args: argv,
      options: {
        url: { type: 'string', multiple: true },
        spread: { type: 'string', default: 'request' },
        model: { type: 'string' },
        api: { type: 'string', default: 'chat' },
        stream: { type: 'boolean', default: true },
        'no-stream': { type: 'boolean', default: false },
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
        workload: { type: 'string', default: 'multiturn' },
        seed: { type: 'string', default: '1' },
        json: { type: 'string' },
        html: { type: 'string' },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return 'help';
  const urls: string[] = values.url ?? [];
  if (urls.length === 0) throw new UsageError('--url is required');
  for (const u of urls) {
    let parsed: URL;
    try {
      parsed = new URL(u);
    } catch {
      throw new UsageError(`--url '${u}' is not a URL`);
    }
    if (!['http:', 'https:'].includes(parsed.protocol)) throw new UsageError(`--url '${u}' must be http(s)`);
  }
  if (!values.model) throw new UsageError('--model is required');
  if (!['chat', 'completions'].includes(values.api)) throw new UsageError(`--api must be chat or completions, got '${values.api}'`);
  if (!['request', 'session'].includes(values.spread)) throw new UsageError(`--spread must be request or session`);
  const w = String(values.workload);
  if (!['multiturn', 'shared-prefix', 'random', 'long-context'].includes(w) && !w.startsWith('file:')) throw new UsageError(`unknown --workload '${w}'`);
  const rps = positive(values.rps, 'rps');
  const concurrency = positive(values.concurrency, 'concurrency', true);
  if (rps !== undefined && concurrency !== undefined) throw new UsageError('give either --rps (open loop) or --concurrency (closed loop), not both');
  const durationMs = values.duration ? duration(values.duration, 'duration') : undefined;
  const requests = positive(values.requests, 'requests', true);
  if (durationMs === undefined && requests === undefined) throw new UsageError('give --duration or --requests (the run must end by itself)');
  let burst: RunConfig['burst'];
  if (values.burst) {
    const m = /^(\d+(?:\.\d+)?)x@([\d.]+(?:ms|s|m)?)\+([\d.]+(?:ms|s|m)?)$/.exec(values.burst);
    if (!m) throw new UsageError(`--burst must look like 10x@20s+10s, got '${values.burst}'`);
    burst = { factor: Number(m[1]), atMs: duration(m[2], 'burst'), durationMs: duration(m[3], 'burst') };
  }
  if ((values.ramp || burst) && rps === undefined) throw new UsageError('--ramp and --burst shape an open-loop rate: use them with --rps');
  const seed = Number(values.seed);
  if (!Number.isInteger(seed)) throw new UsageError(`--seed must be an integer`);
  return {
    config: {
      urls,
      model: values.model,
      api: values.api,
      stream: values['no-stream'] ? false : values.stream,
      maxTokens: positive(values['max-tokens'], 'max-tokens', true)!,
      apiKey: values['api-key'],
      seed,
      timeoutMs: duration(values.timeout, 'timeout'),
      rps,
      concurrency: rps === undefined ? (concurrency ?? 4) : undefined,
      durationMs,
      requests,
      rampMs: values.ramp ? duration(values.ramp, 'ramp') : undefined,
      burst,
      workload: w as WorkloadName,
      spread: values.spread,
      maxConnections: positive(values['max-connections'], 'max-connections', true)!,
    },
    json: values.json,
    html: values.html,
    quiet: values.quiet,
  };
}

function progressPrinter(quiet: boolean, cfg: RunConfig): RunConfig['onProgress'] {
  if (quiet) return undefined;
  const tty = process.stderr.isTTY;
  return (p) => {
    const total = cfg.durationMs ?? 0;
    const frac = total > 0 ? Math.min(1, p.elapsedMs / total) : cfg.requests ? Math.min(1, p.sent / cfg.requests) : 0;
    const stats = `${(p.elapsedMs / 1000).toFixed(0)}s sent ${p.sent} ok ${p.ok} err ${p.failed} in-flight ${p.inFlight} ${p.rate.toFixed(1)} req/s ttft p50 ${p.ttftP50 ?? '—'} ms`;
    if (tty) {
      const width = 24;
      const bar = '█'.repeat(Math.round(frac * width)).padEnd(width, '░');
      process.stderr.write(`\r${bar} ${stats}   `);
    } else process.stderr.write(`${stats}\n`);
  };
}

async function main(): Promise<void> {
  let parsed: ReturnType<typeof parseCli>;
  try {
    parsed = parseCli(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`loadgen: ${err.message}\n\n${HELP}\n`);
      process.exit(2);
    }
    throw err;
  }
  if (parsed === 'help') {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const { config, json, html, quiet } = parsed;
  config.onProgress = progressPrinter(quiet, config);
  const { samples, elapsedMs, offeredRps } = await runLoad(config);
  if (!quiet && process.stderr.isTTY) process.stderr.write('\n');
  const { onProgress: _omit, ...shown } = config;
  const report = buildReport(samples, elapsedMs, offeredRps, shown as Record<string, unknown>);
  process.stdout.write(`${renderText(report)}\n`);
  if (json) writeFileSync(json, JSON.stringify(report, null, 2));
  if (html) writeFileSync(html, renderHtml(report, samples.filter((s) => s.ok && s.ttftMs !== undefined).map((s) => s.ttftMs!)));
  process.exit(report.requests.sent > 0 && report.requests.ok === 0 ? 1 : 0);
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`loadgen failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
