import type { Clock, TimerHandle, Timers } from '@drover/runtime';
import { lifeguardSuspicionTimeoutMs } from './math';

/**
 * One suspicion of one member (Lifeguard). The timeout starts at `maxMs` and shrinks towards
 * `minMs` as independent members confirm it (each confirmer counts once; the first accuser does
 * not count), so a real failure is declared quickly while a lone, possibly-wrong accuser waits
 * long enough for the suspect to refute.
 */
export class Suspicion {
  private readonly confirmers = new Set<string>();
  private confirmations = 0;
  private readonly startMs: number;
  private timer: TimerHandle | undefined;
  private fired = false;

  constructor(
    private readonly deps: { clock: Clock; timers: Timers },
    accuser: string,
    private readonly k: number,
    private readonly minMs: number,
    private readonly maxMs: number,
    private readonly onTimeout: (confirmations: number) => void,
  ) {
    this.startMs = deps.clock.now();
    this.confirmers.add(accuser);
    // With no confirmations to wait for, the minimum applies at once.
    this.arm(k < 1 ? minMs : maxMs);
  }

  get confirmationCount(): number {
    return this.confirmations;
  }

  /** Current total timeout (from the start of the suspicion). */
  get timeoutMs(): number {
    return lifeguardSuspicionTimeoutMs(this.confirmations, this.k, this.minMs, this.maxMs);
  }

  /** Records a confirmation; true if it came from a new member (worth re-gossiping). */
  confirm(from: string): boolean {
    if (this.fired || this.confirmations >= this.k || this.confirmers.has(from)) return false;
    this.confirmers.add(from);
    this.confirmations++;
    const remaining = this.startMs + this.timeoutMs - this.deps.clock.now();
    this.deps.timers.clearTimeout(this.timer);
    if (remaining <= 0) this.fire();
    else this.arm(remaining);
    return true;
  }

  cancel(): void {
    this.deps.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.fired = true;
  }

  private arm(delayMs: number): void {
    this.timer = this.deps.timers.setTimeout(() => this.fire(), delayMs);
  }

  private fire(): void {
    if (this.fired) return;
    this.fired = true;
    this.timer = undefined;
    this.onTimeout(this.confirmations);
  }
}
