import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { METRIC_CATALOG, RUNTIME_METRICS, type MetricType } from '../../src/observability/metric-catalog';

// The dashboard is JSON that Grafana imports as is: these checks keep it importable and keep every
// query on a series the gateway exports, with labels that series has.
const dashboard = JSON.parse(readFileSync(join(__dirname, '../../deploy/grafana/drover-gateway.json'), 'utf8')) as {
  uid: string;
  title: string;
  templating: { list: { name: string; type: string }[] };
  panels: { id: number; type: string; title: string; gridPos: { x: number; y: number; w: number; h: number }; datasource?: { uid: string }; targets?: { refId: string; expr: string }[] }[];
};

/** Labels every series carries once scraped (Prometheus adds them), plus le on histogram buckets. */
const SCRAPE_LABELS = ['instance', 'job'];
const known = new Map<string, { type: MetricType; labels?: readonly string[] }>([
  ...METRIC_CATALOG.map((m) => [m.name, { type: m.type, labels: m.labels }] as const),
  ...RUNTIME_METRICS.map((m) => [m.name, { type: m.type }] as const),
]);

/** The catalog series a query's metric name reads (a histogram's _bucket/_sum/_count are its own). */
function seriesOf(name: string): { name: string; type: MetricType; labels?: readonly string[]; bucket: boolean } | undefined {
  const direct = known.get(name);
  if (direct) return { name, ...direct, bucket: false };
  const m = /^(.*)_(bucket|sum|count)$/.exec(name);
  const base = m ? known.get(m[1]) : undefined;
  return m && base?.type === 'histogram' ? { name: m[1], ...base, bucket: m[2] === 'bucket' } : undefined;
}

const queries = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
const metricNames = (expr: string) => [...expr.matchAll(/\b((?:drover|process|nodejs)_[a-z0-9_]+)\b/g)].map((m) => m[1]);

describe('deploy/grafana/drover-gateway.json', () => {
  it('is a dashboard Grafana can import: unique panel ids, panels within the 24-column grid, a datasource variable', () => {
    expect(dashboard.uid).toBe('drover-gateway');
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(dashboard.templating.list.find((v) => v.name === 'datasource')?.type).toBe('datasource');
    for (const p of dashboard.panels) {
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
      if (p.type === 'row') continue;
      expect(p.datasource?.uid, p.title).toBe('${datasource}');
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      expect(new Set(p.targets!.map((t) => t.refId)).size, p.title).toBe(p.targets!.length);
    }
    expect(queries.length).toBeGreaterThan(30);
  });

  it('queries only series in the metric catalog (gateway and runtime), each of them found', () => {
    for (const q of queries) {
      const names = metricNames(q.expr);
      expect(names.length, `${q.panel}: ${q.expr}`).toBeGreaterThan(0);
      for (const name of names) expect(seriesOf(name), `${q.panel}: ${name}`).toBeDefined();
      // rate() of a gauge, or a bare histogram name, is a query that cannot mean what it says.
      for (const m of q.expr.matchAll(/\b(?:rate|increase)\((\w+)/g)) {
        const s = seriesOf(m[1])!;
        expect(s.type === 'counter' || (s.type === 'histogram' && m[1] !== s.name), `${q.panel}: rate(${m[1]})`).toBe(true);
      }
    }
    // Every gateway series family shows up somewhere except those only useful ad hoc.
    const used = new Set(queries.flatMap((q) => metricNames(q.expr).map((n) => seriesOf(n)!.name)));
    for (const name of ['drover_inference_ttft_seconds', 'drover_worker_in_flight', 'drover_routing_decisions_total', 'drover_mesh_members', 'process_cpu_seconds_total', 'process_resident_memory_bytes', 'drover_event_loop_delay_p99_seconds']) {
      expect(used, name).toContain(name);
    }
  });

  it('groups and filters gateway series only by labels they have', () => {
    for (const q of queries) {
      const series = metricNames(q.expr).map((n) => seriesOf(n)!);
      if (series.some((s) => s.labels === undefined)) continue; // runtime series: labels are prom-client's
      const shared = series.map((s) => new Set([...s.labels!, ...SCRAPE_LABELS, ...(s.bucket ? ['le'] : [])]));
      for (const by of q.expr.matchAll(/\bby \(([^)]*)\)/g)) {
        for (const label of by[1].split(',').map((l) => l.trim())) {
          for (const labels of shared) expect(labels.has(label), `${q.panel}: by ${label}`).toBe(true);
        }
      }
      for (const sel of q.expr.matchAll(/\b(\w+)\{([^}]*)\}/g)) {
        const s = seriesOf(sel[1]);
        if (!s?.labels) continue;
        for (const matcher of sel[2].split(',')) {
          const label = matcher.split(/[=!~]/)[0].trim();
          expect([...s.labels, ...SCRAPE_LABELS], `${q.panel}: ${sel[1]}{${label}}`).toContain(label);
        }
      }
    }
  });
});
