import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { monitorEventLoopDelay, performance, type EventLoopUtilization, type IntervalHistogram } from 'node:perf_hooks';
import type { Labels, Metrics } from '@drover/runtime';
import { DROPPED_RUNTIME_METRICS, METRIC_CATALOG, type MetricSpec } from './metric-catalog';

const LOOP_DELAY_RESOLUTION_MS = 1;

type AnyMetric = Counter<string> | Gauge<string> | Histogram<string>;

/**
 * The process-wide Prometheus registry behind the libraries' narrow `Metrics` interface. Metrics
 * are created from the catalog; a name outside it is a programming error we log once and drop,
 * rather than exporting an undocumented series.
 */
export class PrometheusMetrics implements Metrics {
  readonly registry = new Registry();
  private readonly metrics = new Map<string, AnyMetric>();
  private readonly unknown = new Set<string>();
  private lastElu: EventLoopUtilization = performance.eventLoopUtilization();
  private readonly scrapeHooks: (() => void)[] = [];
  /**
   * Our own delay histogram: prom-client's eventloop_lag_* samples with a 10 ms timer and reports
   * the whole timer period, so an idle loop reads 10 ms. A 1 ms timer with its period subtracted
   * reports what a waiting callback actually waits.
   */
  private readonly loopDelay: IntervalHistogram = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });

  constructor(catalog: readonly MetricSpec[] = METRIC_CATALOG) {
    // Standard names (process_*, nodejs_*), no prefix: stock Node.js dashboards and alerts read them.
    collectDefaultMetrics({ register: this.registry });
    for (const name of DROPPED_RUNTIME_METRICS) this.registry.removeSingleMetric(name);
    for (const spec of catalog) this.metrics.set(spec.name, this.create(spec));
    this.loopDelay.enable();
  }

  /** Stops the delay sampler's timer (tests and shutdown). */
  close(): void {
    this.loopDelay.disable();
  }

  inc(name: string, labels?: Labels, value = 1): void {
    const metric = this.lookup(name, 'counter');
    if (!metric) return;
    if (labels) (metric as Counter<string>).inc(labels, value);
    else (metric as Counter<string>).inc(value);
  }

  observe(name: string, value: number, labels?: Labels): void {
    const metric = this.lookup(name, 'histogram');
    if (!metric) return;
    if (labels) (metric as Histogram<string>).observe(labels, value);
    else (metric as Histogram<string>).observe(value);
  }

  set(name: string, value: number, labels?: Labels): void {
    const metric = this.lookup(name, 'gauge');
    if (!metric) return;
    if (labels) (metric as Gauge<string>).set(labels, value);
    else (metric as Gauge<string>).set(value);
  }

  /** Resets a labelled gauge family, so states no longer current (e.g. a removed worker) disappear. */
  resetGauge(name: string): void {
    (this.metrics.get(name) as Gauge<string> | undefined)?.reset();
  }

  /** Runs before every scrape: for figures read from elsewhere (tokenizer caches, tree sizes). */
  onScrape(hook: () => void): void {
    this.scrapeHooks.push(hook);
  }

  async scrape(): Promise<string> {
    for (const hook of this.scrapeHooks) hook();
    const now = performance.eventLoopUtilization();
    this.set('drover_event_loop_utilization', performance.eventLoopUtilization(now, this.lastElu).utilization);
    this.lastElu = now;
    this.publishLoopDelay();
    return this.registry.metrics();
  }

  private publishLoopDelay(): void {
    const seconds = (ns: number) => Math.max(0, ns / 1e6 - LOOP_DELAY_RESOLUTION_MS) / 1000;
    const h = this.loopDelay;
    if (h.count > 0 || h.max > 0) {
      for (const q of [50, 90, 99]) this.set(`drover_event_loop_delay_p${q}_seconds`, seconds(h.percentile(q)));
      this.set('drover_event_loop_delay_max_seconds', seconds(h.max));
    }
    h.reset();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private lookup(name: string, type: MetricSpec['type']): AnyMetric | undefined {
    const metric = this.metrics.get(name);
    if (metric) return metric;
    if (!this.unknown.has(name)) {
      this.unknown.add(name);
      process.emitWarning(`metric '${name}' (${type}) is not in the metric catalog; dropped`);
    }
    return undefined;
  }

  private create(spec: MetricSpec): AnyMetric {
    const base = { name: spec.name, help: spec.help, labelNames: [...spec.labels], registers: [this.registry] };
    if (spec.type === 'counter') return new Counter(base);
    if (spec.type === 'gauge') return new Gauge(base);
    return new Histogram({ ...base, buckets: [...(spec.buckets ?? [])] });
  }
}
