/** `node dist/src/observability/metrics-doc.js > docs/metrics.md`: the metric reference, from the catalog. */
import { DROPPED_RUNTIME_METRICS, METRIC_CATALOG, RUNTIME_METRICS } from './metric-catalog';

export function renderMetricsDoc(): string {
  const lines = [
    '# Metrics',
    '',
    'Every node serves Prometheus metrics on `GET /metrics`. Generated from',
    '`src/observability/metric-catalog.ts` (`node dist/src/observability/metrics-doc.js > docs/metrics.md`;',
    'a test fails when this file differs). Latency histograms use buckets from 1 ms to 1 h.',
    '',
    '## Gateway series',
    '',
    '| metric | type | labels | meaning |',
    '|---|---|---|---|',
  ];
  for (const m of METRIC_CATALOG) lines.push(`| \`${m.name}\` | ${m.type} | ${m.labels.join(', ') || '—'} | ${cell(m.help)} |`);
  lines.push(
    '',
    '## Process and runtime series',
    '',
    "prom-client's default metrics under their standard names, so stock Node.js dashboards and alerts",
    'work unchanged. For event-loop delay prefer `drover_event_loop_delay_*_seconds` above: prom-client',
    "samples lag with a 10 ms timer and includes that period, so an idle loop reads about 10 ms in",
    '`nodejs_eventloop_lag_*`. Not exported: ' + DROPPED_RUNTIME_METRICS.map((n) => `\`${n}\``).join(', ') +
      ' (gauges named `_total`, which promtool rejects); sum the labelled `nodejs_active_*` gauges instead.',
    '',
    '| metric | type | meaning |',
    '|---|---|---|',
  );
  for (const m of RUNTIME_METRICS) lines.push(`| \`${m.name}\` | ${m.type} | ${cell(m.help)} |`);
  lines.push('', 'A Grafana dashboard over these series: `deploy/grafana/drover-gateway.json`.');
  return `${lines.join('\n')}\n`;
}

const cell = (s: string): string => s.replace(/\|/g, '\\|');

if (require.main === module) process.stdout.write(renderMetricsDoc());
