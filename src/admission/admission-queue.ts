import { DroverError, type Timers, type TimerHandle } from '@drover/runtime';

export interface AdmissionConfig {
  /** Requests served at once by this node; 0 disables the cap. */
  maxConcurrent: number;
  /** Requests allowed to wait for a slot; beyond it → 429. */
  maxQueued: number;
  /** How long a request may wait for a slot → 408. */
  queueTimeoutMs: number;
}

interface Waiter {
  resolve: (release: () => void) => void;
  reject: (err: Error) => void;
  timer: TimerHandle;
}

/**
 * A concurrency cap with a bounded FIFO queue. `acquire()` resolves with a release function;
 * a full queue fails at once with 429 (and Retry-After), a wait past the timeout with 408.
 */
export class AdmissionQueue {
  private active = 0;
  private readonly waiting: Waiter[] = [];

  constructor(private readonly config: AdmissionConfig, private readonly timers: Timers) {}

  get inFlight(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length;
  }

  acquire(signal?: AbortSignal): Promise<() => void> {
    if (this.config.maxConcurrent <= 0 || this.active < this.config.maxConcurrent) {
      this.active++;
      return Promise.resolve(this.releaser());
    }
    if (this.waiting.length >= this.config.maxQueued) {
      return Promise.reject(
        new DroverError('queue_full', 'The server is at capacity and its queue is full. Retry shortly.', { retryAfterSeconds: 1 }),
      );
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: this.timers.setTimeout(() => {
          this.drop(waiter);
          reject(new DroverError('queue_timeout', `The request waited ${this.config.queueTimeoutMs} ms for capacity and timed out.`));
        }, this.config.queueTimeoutMs),
      };
      this.waiting.push(waiter);
      signal?.addEventListener('abort', () => {
        if (this.drop(waiter)) reject(new DroverError('invalid_request', 'client went away while queued'));
      }, { once: true });
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) {
        this.timers.clearTimeout(next.timer);
        next.resolve(this.releaser());
      } else {
        this.active--;
      }
    };
  }

  private drop(waiter: Waiter): boolean {
    const i = this.waiting.indexOf(waiter);
    if (i < 0) return false;
    this.waiting.splice(i, 1);
    this.timers.clearTimeout(waiter.timer);
    return true;
  }
}
