import type { LoadReport } from './report';

const W = 560;
const H = 220;
const PAD = 40;

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A minimal line chart as inline SVG (no external assets, opens offline). */
function lineChart(id: string, title: string, series: { name: string; color: string; points: [number, number][] }[], xLabel: string, yLabel: string): string {
  const all = series.flatMap((s) => s.points);
  const maxX = Math.max(1, ...all.map((p) => p[0]));
  const maxY = Math.max(1e-9, ...all.map((p) => p[1]));
  const x = (v: number) => PAD + (v / maxX) * (W - 2 * PAD);
  const y = (v: number) => H - PAD + -((v / maxY) * (H - 2 * PAD));
  const paths = series
    .filter((s) => s.points.length > 0)
    .map((s) => `<polyline class="series" data-series="${esc(s.name)}" fill="none" stroke="${s.color}" stroke-width="2" points="${s.points.map(([a, b]) => `${x(a).toFixed(1)},${y(b).toFixed(1)}`).join(' ')}"/>`)
    .join('');
  const legend = series.map((s, i) => `<text x="${PAD + i * 110}" y="16" fill="${s.color}" font-size="12">■ ${esc(s.name)}</text>`).join('');
  return `<figure id="${id}"><figcaption>${esc(title)}</figcaption><svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">
<line x1="${PAD}" y1="${H - PAD}" x2="${W - PAD}" y2="${H - PAD}" stroke="#888"/><line x1="${PAD}" y1="${PAD}" x2="${PAD}" y2="${H - PAD}" stroke="#888"/>
<text x="${W / 2}" y="${H - 8}" font-size="11" text-anchor="middle" fill="#555">${esc(xLabel)}</text>
<text x="10" y="${H / 2}" font-size="11" fill="#555" transform="rotate(-90 10 ${H / 2})" text-anchor="middle">${esc(yLabel)}</text>
<text x="${PAD - 4}" y="${PAD + 4}" font-size="10" text-anchor="end" fill="#555">${+maxY.toPrecision(3)}</text>
<text x="${W - PAD}" y="${H - PAD + 14}" font-size="10" text-anchor="end" fill="#555">${+maxX.toPrecision(3)}</text>
${legend}${paths}</svg></figure>`;
}

function barChart(id: string, title: string, bars: [string, number][]): string {
  const max = Math.max(1, ...bars.map((b) => b[1]));
  const bw = bars.length ? (W - 2 * PAD) / bars.length : 0;
  const rects = bars
    .map(([name, v], i) => {
      const h = (v / max) * (H - 2 * PAD);
      return `<rect class="bar" x="${PAD + i * bw + 4}" y="${H - PAD - h}" width="${Math.max(1, bw - 8)}" height="${h}" fill="#d9534f"/><text x="${PAD + i * bw + bw / 2}" y="${H - PAD + 14}" font-size="10" text-anchor="middle">${esc(name)} (${v})</text>`;
    })
    .join('');
  return `<figure id="${id}"><figcaption>${esc(title)}</figcaption><svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}"><line x1="${PAD}" y1="${H - PAD}" x2="${W - PAD}" y2="${H - PAD}" stroke="#888"/>${rects || `<text x="${W / 2}" y="${H / 2}" text-anchor="middle" fill="#555">no errors</text>`}</svg></figure>`;
}

/** A self-contained HTML report: TTFT CDF, latency percentiles over time, throughput, errors. */
export function renderHtml(r: LoadReport, ttftSamples: number[]): string {
  const sorted = [...ttftSamples].sort((a, b) => a - b);
  const cdf: [number, number][] = sorted.map((v, i) => [v, (i + 1) / sorted.length]);
  const tl = r.timeline;
  const row = (name: string, s: { p50: number | null; p90: number | null; p99: number | null; max: number | null }) =>
    `<tr><td>${name}</td><td>${s.p50 ?? '—'}</td><td>${s.p90 ?? '—'}</td><td>${s.p99 ?? '—'}</td><td>${s.max ?? '—'}</td></tr>`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Drover loadgen report</title>
<style>body{font:14px system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:4px 10px;text-align:right}th:first-child,td:first-child{text-align:left}figure{display:inline-block;margin:10px}figcaption{font-weight:600}</style></head><body>
<h1>Load test report</h1>
<p id="summary">${r.requests.sent} requests: ${r.requests.ok} ok, ${r.requests.failed} failed · ${r.rps_achieved} req/s achieved${r.rps_offered !== null ? ` of ${r.rps_offered} offered` : ''} · ${r.output_tokens_per_s} output tokens/s · cached ${r.cached_token_ratio === null ? '—' : `${(r.cached_token_ratio * 100).toFixed(1)}%`} · ${r.elapsed_s} s</p>
<table id="latency"><tr><th>ms</th><th>p50</th><th>p90</th><th>p99</th><th>max</th></tr>${row('TTFT', r.ttft_ms)}${row('ITL', r.itl_ms)}${row('end to end', r.e2e_ms)}${row('schedule lag', r.schedule_lag_ms)}</table>
${lineChart('ttft-cdf', 'TTFT CDF', [{ name: 'TTFT', color: '#337ab7', points: cdf }], 'TTFT (ms)', 'fraction of requests')}
${lineChart('latency-over-time', 'Latency p50 over time', [
    { name: 'TTFT p50', color: '#337ab7', points: tl.filter((t) => t.ttft_p50 !== null).map((t) => [t.t, t.ttft_p50!]) },
    { name: 'e2e p50', color: '#5cb85c', points: tl.filter((t) => t.e2e_p50 !== null).map((t) => [t.t, t.e2e_p50!]) },
  ], 'time (s)', 'ms')}
${lineChart('throughput', 'Throughput', [
    { name: 'ok req/s', color: '#5cb85c', points: tl.map((t) => [t.t, t.ok]) },
    { name: 'failed/s', color: '#d9534f', points: tl.map((t) => [t.t, t.failed]) },
  ], 'time (s)', 'per second')}
${barChart('errors', 'Errors by kind', Object.entries(r.errors))}
<script type="application/json" id="report-data">${JSON.stringify(r).replace(/</g, '\\u003c')}</script>
</body></html>`;
}
