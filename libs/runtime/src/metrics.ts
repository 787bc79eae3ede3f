/**
 * The narrow metrics surface libraries write to. The gateway adapts it to prom-client; tests and
 * the simulator use CountingMetrics to assert on what a component counted.
 */
export type Labels = Record<string, string | number>;

export interface Metrics {
  inc(name: string, labels?: Labels, value?: number): void;
  observe(name: string, value: number, labels?: Labels): void;
  set(name: string, value: number, labels?: Labels): void;
}

export const noopMetrics: Metrics = {
  inc() {},
  observe() {},
  set() {},
};

function key(name: string, labels?: Labels): string {
  if (!labels) return name;
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`);
  return `${name}{${parts.join(',')}}`;
}

export class CountingMetrics implements Metrics {
  readonly counters = new Map<string, number>();
  readonly gauges = new Map<string, number>();
  readonly observations = new Map<string, number[]>();

  inc(name: string, labels?: Labels, value = 1): void {
    const k = key(name, labels);
    this.counters.set(k, (this.counters.get(k) ?? 0) + value);
  }

  observe(name: string, value: number, labels?: Labels): void {
    const k = key(name, labels);
    const list = this.observations.get(k) ?? [];
    list.push(value);
    this.observations.set(k, list);
  }

  set(name: string, value: number, labels?: Labels): void {
    this.gauges.set(key(name, labels), value);
  }

  counter(name: string, labels?: Labels): number {
    return this.counters.get(key(name, labels)) ?? 0;
  }

  /** Sum of a counter over all label sets. */
  total(name: string): number {
    let sum = 0;
    for (const [k, v] of this.counters) if (k === name || k.startsWith(`${name}{`)) sum += v;
    return sum;
  }
}
