/** Monotonic milliseconds. Protocol cores read time only through this (ARCHITECTURE §3). */
export interface Clock {
  now(): number;
}

/** Wall-clock-anchored monotonic time: performance.now() offset by the process's time origin. */
export class SystemClock implements Clock {
  now(): number {
    return performance.timeOrigin + performance.now();
  }
}
