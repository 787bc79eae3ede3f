import type { LoadReport } from './report';
import type { Summary } from './stats';

const fmt = (s: Summary) => (s.count === 0 ? '—' : `p50 ${s.p50} / p90 ${s.p90} / p99 ${s.p99} / max ${s.max}`);

/** The human summary printed on stdout at the end of a run. */
export function renderText(r: LoadReport): string {
  const errors = Object.entries(r.errors);
  const lines = [
    `requests   sent ${r.requests.sent}, ok ${r.requests.ok}, failed ${r.requests.failed}${errors.length ? ` (${errors.map(([k, v]) => `${k}: ${v}`).join(', ')})` : ''}`,
    `rate       ${r.rps_achieved} req/s achieved${r.rps_offered !== null ? ` of ${r.rps_offered} offered` : ''}, ${r.output_tokens_per_s} output tokens/s over ${r.elapsed_s} s`,
    `ttft ms    ${fmt(r.ttft_ms)}`,
    `itl ms     ${fmt(r.itl_ms)}`,
    `e2e ms     ${fmt(r.e2e_ms)}`,
  ];
  if (r.rps_offered !== null) {
    lines.push(`lag ms     ${fmt(r.schedule_lag_ms)} (behind the open-loop schedule)`);
    lines.push(`e2e ms     ${fmt(r.e2e_from_schedule_ms)} (from the scheduled send time)`);
  }
  lines.push(`cached     ${r.cached_token_ratio === null ? '—' : `${(r.cached_token_ratio * 100).toFixed(1)}% of prompt tokens`}`);
  const urls = Object.entries(r.per_url);
  if (urls.length > 1) for (const [url, a] of urls) lines.push(`  ${url}: ok ${a.requests.ok}/${a.requests.sent}, ttft p50 ${a.ttft_ms.p50 ?? '—'} ms, e2e p50 ${a.e2e_ms.p50 ?? '—'} ms`);
  return lines.join('\n');
}
