import type { Clock } from './clock';
import type { TimerHandle, Timers } from './timers';

interface Entry {
  dueMs: number;
  seq: number;
  id: number;
  fn: () => void;
  periodMs: number | undefined;
  cancelled: boolean;
}

/**
 * Virtual time: a binary heap of timers ordered by (dueMs, seq). Nothing runs until the caller
 * advances time, so a whole cluster runs deterministically and much faster than real time. Ties
 * run in scheduling order (seq), which keeps runs reproducible from a seed.
 */
export class VirtualScheduler implements Clock, Timers {
  private heap: Entry[] = [];
  private byId = new Map<number, Entry>();
  private nowMs: number;
  private seq = 0;
  private nextId = 1;
  private executed = 0;

  constructor(startMs = 0) {
    this.nowMs = startMs;
  }

  now(): number {
    return this.nowMs;
  }

  /** Number of callbacks run so far (a cheap progress and cost measure for simulations). */
  get executedCount(): number {
    return this.executed;
  }

  get pendingCount(): number {
    return this.byId.size;
  }

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    return this.schedule(fn, Math.max(0, delayMs), undefined);
  }

  setInterval(fn: () => void, periodMs: number): TimerHandle {
    const period = Math.max(1e-6, periodMs);
    return this.schedule(fn, period, period);
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (!handle) return;
    const entry = this.byId.get(handle.id);
    if (entry) {
      entry.cancelled = true;
      this.byId.delete(handle.id);
    }
  }

  clearInterval(handle: TimerHandle | undefined): void {
    this.clearTimeout(handle);
  }

  /** Runs every callback due up to now + ms (including ones they schedule), then sets now + ms. */
  advance(ms: number): void {
    this.runUntilTime(this.nowMs + ms);
  }

  /** Runs every callback due up to `targetMs`, then sets the clock to `targetMs`. */
  runUntilTime(targetMs: number): void {
    for (;;) {
      const top = this.peek();
      if (!top || top.dueMs > targetMs) break;
      this.runOne();
    }
    if (targetMs > this.nowMs) this.nowMs = targetMs;
  }

  /** Runs the next due callback, jumping the clock to it. Returns false when nothing is pending. */
  step(): boolean {
    if (!this.peek()) return false;
    this.runOne();
    return true;
  }

  /**
   * Runs until no timer is pending (intervals keep it busy forever, hence the limits). Returns the
   * number of callbacks run.
   */
  runUntilIdle(maxCallbacks = 10_000_000, maxTimeMs = Number.POSITIVE_INFINITY): number {
    let ran = 0;
    const deadline = this.nowMs + maxTimeMs;
    while (ran < maxCallbacks) {
      const top = this.peek();
      if (!top || top.dueMs > deadline) break;
      this.runOne();
      ran++;
    }
    return ran;
  }

  /** Advances in steps until `done()` holds or `limitMs` of virtual time passes. */
  runUntil(done: () => boolean, limitMs: number, stepMs = 10): boolean {
    const end = this.nowMs + limitMs;
    while (!done()) {
      if (this.nowMs >= end) return false;
      this.runUntilTime(Math.min(end, this.nowMs + stepMs));
    }
    return true;
  }

  private schedule(fn: () => void, delayMs: number, periodMs: number | undefined): TimerHandle {
    const entry: Entry = { dueMs: this.nowMs + delayMs, seq: this.seq++, id: this.nextId++, fn, periodMs, cancelled: false };
    this.byId.set(entry.id, entry);
    this.push(entry);
    return { id: entry.id };
  }

  private peek(): Entry | undefined {
    while (this.heap.length > 0 && this.heap[0].cancelled) this.pop();
    return this.heap[0];
  }

  private runOne(): void {
    const entry = this.pop()!;
    if (entry.dueMs > this.nowMs) this.nowMs = entry.dueMs;
    if (entry.periodMs !== undefined) {
      entry.dueMs += entry.periodMs;
      entry.seq = this.seq++;
      this.push(entry);
    } else {
      this.byId.delete(entry.id);
    }
    this.executed++;
    entry.fn();
  }

  private less(a: Entry, b: Entry): boolean {
    return a.dueMs < b.dueMs || (a.dueMs === b.dueMs && a.seq < b.seq);
  }

  private push(entry: Entry): void {
    const heap = this.heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(heap[i], heap[parent])) break;
      [heap[i], heap[parent]] = [heap[parent], heap[i]];
      i = parent;
    }
  }

  private pop(): Entry | undefined {
    const heap = this.heap;
    if (heap.length === 0) return undefined;
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && this.less(heap[l], heap[m])) m = l;
        if (r < heap.length && this.less(heap[r], heap[m])) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m], heap[i]];
        i = m;
      }
    }
    return top;
  }
}
