import type { Sample } from './runner';
import { round, summarize, type Summary } from './stats';

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

export interface LoadReport extends Aggregate {
  rps_offered: number | null;
  schedule_lag_ms: Summary;
  e2e_from_schedule_ms: Summary;
  elapsed_s: number;
  per_url: Record<string, Aggregate>;
  timeline: { t: number; sent: number; ok: number; failed: number; ttft_p50: number | null; e2e_p50: number | null; output_tokens: number }[];
  config: Record<string, unknown>;
}

function aggregate(samples: Sample[], elapsedMs: number): Aggregate {
  const ok = samples.filter((s) => s.ok);
  const errors: Record<string, number> = {};
  for (const s of samples) if (!s.ok) errors[s.error ?? 'unknown'] = (errors[s.error ?? 'unknown'] ?? 0) + 1;
  const prompt = ok.reduce((a, s) => a + s.promptTokens, 0);
  const cached = ok.reduce((a, s) => a + s.cachedTokens, 0);
  const out = ok.reduce((a, s) => a + s.outputTokens, 0);
  const secs = Math.max(elapsedMs / 1000, 1e-3);
  return {
    requests: { sent: samples.length, ok: ok.length, failed: samples.length - ok.length },
    ttft_ms: summarize(ok.filter((s) => s.ttftMs !== undefined).map((s) => s.ttftMs!)),
    itl_ms: summarize(ok.flatMap((s) => s.itlMs)),
    e2e_ms: summarize(ok.map((s) => s.e2eMs)),
    rps_achieved: round(ok.length / secs),
    output_tokens_per_s: round(out / secs),
    cached_token_ratio: prompt > 0 ? round(cached / prompt) : null,
    errors,
  };
}

export function buildReport(samples: Sample[], elapsedMs: number, offered: number | null, config: Record<string, unknown>): LoadReport {
  const perUrl: Record<string, Aggregate> = {};
  for (const url of new Set(samples.map((s) => s.url))) perUrl[url] = aggregate(samples.filter((s) => s.url === url), elapsedMs);
  const seconds = Math.ceil(elapsedMs / 1000);
  const timeline = Array.from({ length: seconds }, (_, t) => {
    const inSec = samples.filter((s) => Math.floor((s.sentMs + s.e2eMs) / 1000) === t);
    const okIn = inSec.filter((s) => s.ok);
    return {
      t,
      sent: samples.filter((s) => Math.floor(s.sentMs / 1000) === t).length,
      ok: okIn.length,
      failed: inSec.length - okIn.length,
      ttft_p50: summarize(okIn.filter((s) => s.ttftMs !== undefined).map((s) => s.ttftMs!)).p50,
      e2e_p50: summarize(okIn.map((s) => s.e2eMs)).p50,
      output_tokens: okIn.reduce((a, s) => a + s.outputTokens, 0),
    };
  });
  return {
    ...aggregate(samples, elapsedMs),
    rps_offered: offered,
    schedule_lag_ms: summarize(samples.map((s) => Math.max(0, s.sentMs - s.dueMs))),
    e2e_from_schedule_ms: summarize(samples.filter((s) => s.ok).map((s) => s.sentMs - s.dueMs + s.e2eMs)),
    elapsed_s: round(elapsedMs / 1000),
    per_url: perUrl,
    timeline,
    config,
  };
}

export function renderText(r: LoadReport): string {
  const fmt = (s: Summary) => (s.count === 0 ? '—' : `p50 ${s.p50} / p90 ${s.p90} / p99 ${s.p99} / max ${s.max}`);
  const lines = [
    `requests   sent ${r.requests.sent}, ok ${r.requests.ok}, failed ${r.requests.failed}${Object.keys(r.errors).length ? ` (${Object.entries(r.errors).map(([k, v]) => `${k}: ${v}`).join(', ')})` : ''}`,
    `rate       ${r.rps_achieved} req/s achieved${r.rps_offered !== null ? ` of ${r.rps_offered} offered` : ''}, ${r.output_tokens_per_s} output tokens/s`,
    `ttft ms    ${fmt(r.ttft_ms)}`,
    `itl ms     ${fmt(r.itl_ms)}`,
    `e2e ms     ${fmt(r.e2e_ms)}`,
    `lag ms     ${fmt(r.schedule_lag_ms)} (open-loop schedule lag)`,
    `cached     ${r.cached_token_ratio === null ? '—' : `${(r.cached_token_ratio * 100).toFixed(1)}% of prompt tokens`}`,
  ];
  for (const [url, a] of Object.entries(r.per_url)) lines.push(`  ${url}: ok ${a.requests.ok}/${a.requests.sent}, ttft p50 ${a.ttft_ms.p50 ?? '—'} ms`);
  return lines.join('\n');
}
