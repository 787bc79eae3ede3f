import type { Aggregate, LoadReport } from './report';
import type { Summary } from './stats';
import { barChart, esc, lineChart } from './svg-charts';

const BLUE = '#337ab7';
const GREEN = '#3c9a3c';
const RED = '#d9534f';
const ORANGE = '#e08a1e';
const PURPLE = '#7a4fb5';

const cell = (v: number | null) => `<td>${v ?? '—'}</td>`;
const row = (name: string, s: Summary) => `<tr><td>${esc(name)}</td>${cell(s.p50)}${cell(s.p90)}${cell(s.p99)}${cell(s.max)}<td>${s.count}</td></tr>`;
const pct = (r: number | null) => (r === null ? '—' : `${(r * 100).toFixed(1)}%`);

function perUrlTable(perUrl: Record<string, Aggregate>): string {
  const rows = Object.entries(perUrl)
    .map(([url, a]) => `<tr><td>${esc(url)}</td><td>${a.requests.sent}</td><td>${a.requests.ok}</td><td>${a.requests.failed}</td>${cell(a.ttft_ms.p50)}${cell(a.ttft_ms.p99)}${cell(a.e2e_ms.p50)}<td>${a.rps_achieved}</td><td>${pct(a.cached_token_ratio)}</td></tr>`)
    .join('');
  return `<table id="per-url"><tr><th>URL</th><th>sent</th><th>ok</th><th>failed</th><th>TTFT p50</th><th>TTFT p99</th><th>e2e p50</th><th>req/s</th><th>cached</th></tr>${rows}</table>`;
}

/**
 * A self-contained HTML report (inline CSS and SVG, no scripts or network): summary, latency
 * table, TTFT CDF, latency percentiles over time, throughput, errors, per-URL breakdown. The
 * full JSON rides along in a non-executed script block for anyone who wants the numbers.
 */
export function renderHtml(r: LoadReport, ttftSamples: number[]): string {
  const sorted = Float64Array.from(ttftSamples).sort();
  const cdf: [number, number][] = Array.from(sorted, (v, i) => [v, (i + 1) / sorted.length]);
  const tl = r.timeline;
  const over = (pick: (t: LoadReport['timeline'][number]) => number | null): [number, number][] =>
    tl.filter((t) => pick(t) !== null).map((t) => [t.t, pick(t)!]);
  const summary = `${r.requests.sent} requests: ${r.requests.ok} ok, ${r.requests.failed} failed · ${r.rps_achieved} req/s achieved${r.rps_offered !== null ? ` of ${r.rps_offered} offered` : ''} · ${r.output_tokens_per_s} output tokens/s · cached ${pct(r.cached_token_ratio)} of prompt tokens · ${r.elapsed_s} s`;
  const target = Array.isArray(r.config.urls) ? (r.config.urls as string[]).join(', ') : '';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>loadgen report</title>
<style>body{font:14px system-ui,sans-serif;margin:24px;color:#222;max-width:1300px}table{border-collapse:collapse;margin:12px 0}td,th{border:1px solid #ddd;padding:4px 10px;text-align:right}th:first-child,td:first-child{text-align:left}figure{display:inline-block;margin:10px;vertical-align:top}figcaption{font-weight:600;margin-bottom:4px}code{background:#f4f4f4;padding:1px 4px}</style></head><body>
<h1>Load test report</h1>
<p>${esc(target)}${r.config.model ? ` · model <code>${esc(String(r.config.model))}</code>` : ''}${r.config.workload ? ` · workload <code>${esc(String(r.config.workload))}</code>` : ''}</p>
<p id="summary">${esc(summary)}</p>
<table id="latency"><tr><th>ms</th><th>p50</th><th>p90</th><th>p99</th><th>max</th><th>n</th></tr>${row('TTFT', r.ttft_ms)}${row('inter-token', r.itl_ms)}${row('end to end', r.e2e_ms)}${r.rps_offered !== null ? row('schedule lag', r.schedule_lag_ms) + row('TTFT from schedule', r.ttft_from_schedule_ms) + row('e2e from schedule', r.e2e_from_schedule_ms) : ''}</table>
${lineChart('ttft-cdf', 'TTFT CDF', [{ name: 'TTFT', color: BLUE, points: cdf, step: true }], 'TTFT (ms)', 'fraction of requests')}
${lineChart('latency-over-time', 'Latency percentiles over time', [
    { name: 'TTFT p50', color: BLUE, points: over((t) => t.ttft_p50) },
    { name: 'TTFT p90', color: PURPLE, points: over((t) => t.ttft_p90) },
    { name: 'TTFT p99', color: RED, points: over((t) => t.ttft_p99) },
    { name: 'e2e p50', color: GREEN, points: over((t) => t.e2e_p50) },
    { name: 'e2e p99', color: ORANGE, points: over((t) => t.e2e_p99) },
  ], 'time (s)', 'ms')}
${lineChart('throughput', 'Throughput', [
    { name: 'sent/s', color: BLUE, points: tl.map((t) => [t.t, t.sent]) },
    { name: 'ok/s', color: GREEN, points: tl.map((t) => [t.t, t.ok]) },
    { name: 'failed/s', color: RED, points: tl.map((t) => [t.t, t.failed]) },
  ], 'time (s)', 'requests per second')}
${lineChart('token-throughput', 'Output tokens per second', [{ name: 'output tokens/s', color: PURPLE, points: tl.map((t) => [t.t, t.output_tokens]) }], 'time (s)', 'tokens per second')}
${barChart('errors', 'Errors by kind', Object.entries(r.errors), RED)}
<h2>Per URL</h2>
${perUrlTable(r.per_url)}
<script type="application/json" id="report-data">${JSON.stringify(r).replace(/</g, '\\u003c')}</script>
</body></html>`;
}
