import type { Sample } from './runner';
import { round, summarize, type Summary } from './stats';

/** The measures that exist both for the whole run and per URL. */
export interface Aggregate {
  requests: { sent: number; ok: number; failed: number };
  ttft_ms: Summary;
  itl_ms: Summary;
  e2e_ms: Summary;
  rps_achieved: number;
  output_tokens_per_s: number;
  cached_token_ratio: number | null;
  errors: Record<string, number>;
}

/** One second of the run: requests sent in it, and requests that completed in it. */
export interface TimelinePoint {
  t: number;
  sent: number;
  ok: number;
  failed: number;
  output_tokens: number;
  ttft_p50: number | null;
  ttft_p90: number | null;
  ttft_p99: number | null;
  e2e_p50: number | null;
  e2e_p90: number | null;
  e2e_p99: number | null;
  errors: Record<string, number>;
}

/** The `--json` document. Its top-level keys are exactly `REPORT_FIELDS` (README lists them). */
export interface LoadReport extends Aggregate {
  rps_offered: number | null;
  schedule_lag_ms: Summary;
  ttft_from_schedule_ms: Summary;
  e2e_from_schedule_ms: Summary;
  elapsed_s: number;
  per_url: Record<string, Aggregate>;
  timeline: TimelinePoint[];
  config: Record<string, unknown>;
}

export const REPORT_FIELDS = [
  'requests', 'ttft_ms', 'itl_ms', 'e2e_ms', 'rps_achieved', 'output_tokens_per_s', 'cached_token_ratio', 'errors', 'per_url', 'timeline',
  'rps_offered', 'schedule_lag_ms', 'ttft_from_schedule_ms', 'e2e_from_schedule_ms', 'elapsed_s', 'config',
] as const;

function countErrors(samples: Sample[]): Record<string, number> {
  const errors: Record<string, number> = {};
  for (const s of samples) if (!s.ok) errors[s.error ?? 'unknown'] = (errors[s.error ?? 'unknown'] ?? 0) + 1;
  return errors;
}

const ttftsOf = (samples: Sample[]) => samples.filter((s) => s.ok && s.ttftMs !== undefined).map((s) => s.ttftMs!);

function aggregate(samples: Sample[], elapsedMs: number): Aggregate {
  const ok = samples.filter((s) => s.ok);
  let prompt = 0;
  let cached = 0;
  let output = 0;
  for (const s of ok) {
    prompt += s.promptTokens;
    cached += s.cachedTokens;
    output += s.outputTokens;
  }
  const seconds = Math.max(elapsedMs / 1000, 1e-3);
  return {
    requests: { sent: samples.length, ok: ok.length, failed: samples.length - ok.length },
    ttft_ms: summarize(ttftsOf(samples)),
    itl_ms: summarize(ok.flatMap((s) => s.itlMs)),
    e2e_ms: summarize(ok.map((s) => s.e2eMs)),
    rps_achieved: round(ok.length / seconds),
    output_tokens_per_s: round(output / seconds),
    cached_token_ratio: prompt > 0 ? round(cached / prompt, 4) : null,
    errors: countErrors(samples),
  };
}

/** Buckets samples into whole seconds in one pass: sent by send time, the rest by completion time. */
function timeline(samples: Sample[], elapsedMs: number): TimelinePoint[] {
  const seconds = Math.max(1, Math.ceil(elapsedMs / 1000));
  const sentIn = new Array<number>(seconds).fill(0);
  const doneIn: Sample[][] = Array.from({ length: seconds }, () => []);
  const clampSecond = (ms: number) => Math.min(seconds - 1, Math.max(0, Math.floor(ms / 1000)));
  for (const s of samples) {
    sentIn[clampSecond(s.sentMs)]++;
    doneIn[clampSecond(s.sentMs + s.e2eMs)].push(s);
  }
  return doneIn.map((done, t) => {
    const ok = done.filter((s) => s.ok);
    const ttft = summarize(ttftsOf(done));
    const e2e = summarize(ok.map((s) => s.e2eMs));
    return {
      t,
      sent: sentIn[t],
      ok: ok.length,
      failed: done.length - ok.length,
      output_tokens: ok.reduce((a, s) => a + s.outputTokens, 0),
      ttft_p50: ttft.p50,
      ttft_p90: ttft.p90,
      ttft_p99: ttft.p99,
      e2e_p50: e2e.p50,
      e2e_p90: e2e.p90,
      e2e_p99: e2e.p99,
      errors: countErrors(done),
    };
  });
}

export function buildReport(samples: Sample[], elapsedMs: number, offeredRps: number | null, config: Record<string, unknown>): LoadReport {
  const perUrl: Record<string, Aggregate> = {};
  for (const url of new Set(samples.map((s) => s.url))) perUrl[url] = aggregate(samples.filter((s) => s.url === url), elapsedMs);
  const ok = samples.filter((s) => s.ok);
  // Coordinated omission: latency counted from when the request was due, not when it got out.
  return {
    ...aggregate(samples, elapsedMs),
    per_url: perUrl,
    timeline: timeline(samples, elapsedMs),
    rps_offered: offeredRps,
    schedule_lag_ms: summarize(samples.map((s) => Math.max(0, s.sentMs - s.dueMs))),
    ttft_from_schedule_ms: summarize(ok.filter((s) => s.ttftMs !== undefined).map((s) => s.sentMs - s.dueMs + s.ttftMs!)),
    e2e_from_schedule_ms: summarize(ok.map((s) => s.sentMs - s.dueMs + s.e2eMs)),
    elapsed_s: round(elapsedMs / 1000),
    config,
  };
}
