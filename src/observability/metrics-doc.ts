/** `node dist/src/observability/metrics-doc.js > docs/metrics.md`: the metric reference, from the catalog. */
import { METRIC_CATALOG } from './metric-catalog';

export function renderMetricsDoc(): string {
  const lines = [
    '# Metrics',
    '',
    'Every node serves Prometheus metrics on `GET /metrics`. Generated from',
    '`src/observability/metric-catalog.ts` (`node dist/src/observability/metrics-doc.js > docs/metrics.md`).',
    'Latency histograms use buckets from 1 ms to 1 h. Process metrics (heap, RSS, GC, event-loop lag)',
    'come from prom-client\'s defaults under the `drover_process_` prefix.',
    '',
    '| metric | type | labels | meaning |',
    '|---|---|---|---|',
  ];
  for (const m of METRIC_CATALOG) lines.push(`| \`${m.name}\` | ${m.type} | ${m.labels.join(', ') || '—'} | ${m.help.replace(/\|/g, '\\|')} |`);
  return `${lines.join('\n')}\n`;
}

if (require.main === module) process.stdout.write(renderMetricsDoc());
