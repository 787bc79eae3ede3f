import { afterEach, describe, expect, it } from 'vitest';
import { PrometheusMetrics } from './prometheus-metrics';
import { DROPPED_RUNTIME_METRICS, METRIC_CATALOG, RUNTIME_METRICS, type MetricSpec } from './metric-catalog';

const CATALOG: MetricSpec[] = [
  { name: 't_requests_total', type: 'counter', help: 'requests', labels: ['model', 'worker'] },
  { name: 't_latency_seconds', type: 'histogram', help: 'latency', labels: ['model'], buckets: [0.1, 1] },
  { name: 't_in_flight', type: 'gauge', help: 'in flight', labels: ['worker'] },
  ...METRIC_CATALOG.filter((m) => m.name.startsWith('drover_event_loop')),
];

describe('PrometheusMetrics', () => {
  let metrics: PrometheusMetrics | undefined;
  afterEach(() => metrics?.close());

  it('adds up one series whatever the order of the label keys, and keeps label sets apart', async () => {
    metrics = new PrometheusMetrics(CATALOG);
    metrics.inc('t_requests_total', { model: 'a', worker: 'w1' });
    metrics.inc('t_requests_total', { worker: 'w1', model: 'a' }, 2);
    metrics.inc('t_requests_total', { model: 'w1', worker: 'a' });
    const text = await metrics.scrape();
    expect(text).toContain('t_requests_total{model="a",worker="w1"} 3');
    expect(text).toContain('t_requests_total{model="w1",worker="a"} 1');
  });

  it('observes histograms per label set', async () => {
    metrics = new PrometheusMetrics(CATALOG);
    metrics.observe('t_latency_seconds', 0.05, { model: 'a' });
    metrics.observe('t_latency_seconds', 0.5, { model: 'a' });
    metrics.observe('t_latency_seconds', 5, { model: 'b' });
    const text = await metrics.scrape();
    expect(text).toContain('t_latency_seconds_bucket{le="0.1",model="a"} 1');
    expect(text).toContain('t_latency_seconds_count{model="a"} 2');
    expect(text).toContain('t_latency_seconds_count{model="b"} 1');
  });

  it('a reset gauge family drops its series and later sets land in the live family', async () => {
    metrics = new PrometheusMetrics(CATALOG);
    metrics.set('t_in_flight', 4, { worker: 'w1' });
    metrics.set('t_in_flight', 2, { worker: 'w2' });
    metrics.resetGauge('t_in_flight');
    metrics.set('t_in_flight', 7, { worker: 'w1' });
    const text = await metrics.scrape();
    expect(text).toContain('t_in_flight{worker="w1"} 7');
    expect(text).not.toContain('worker="w2"');
  });

  it('publishes the event-loop delay gauges at scrape', async () => {
    metrics = new PrometheusMetrics(CATALOG);
    const text = await metrics.scrape();
    expect(text).toMatch(/^drover_event_loop_delay_p99_seconds \S+$/m);
  });

  it('exports the process and runtime metrics under their standard names, exactly as RUNTIME_METRICS lists them', async () => {
    metrics = new PrometheusMetrics(CATALOG);
    const ours = new Set(CATALOG.map((m) => m.name));
    const runtime = metrics.registry
      .getMetricsAsArray()
      .filter((m) => !ours.has(m.name))
      .map((m) => `${m.name} ${(m as unknown as { type: string }).type}`);
    expect(runtime.sort()).toEqual(RUNTIME_METRICS.map((m) => `${m.name} ${m.type}`).sort());
    const text = await metrics.scrape();
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_heap_size_used_bytes']) {
      expect(text).toMatch(new RegExp(`^${name} \\S+$`, 'm'));
    }
    expect(text).not.toContain('drover_process_');
    for (const name of DROPPED_RUNTIME_METRICS) expect(text).not.toContain(name);
  });
});
