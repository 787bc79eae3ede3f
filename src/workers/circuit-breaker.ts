import type { Clock } from '@drover/runtime';

export type CircuitState = 'closed' | 'open' | 'half_open';

export interface CircuitConfig {
  /** Consecutive failures that open the circuit. */
  failureThreshold: number;
  /** How long an open circuit rejects before letting probes through. */
  cooldownMs: number;
  /** Concurrent probe requests allowed while half-open. */
  halfOpenMaxProbes: number;
  /** Successes in half-open that close the circuit again. */
  successThreshold: number;
}

export const DEFAULT_CIRCUIT: CircuitConfig = { failureThreshold: 5, cooldownMs: 10_000, halfOpenMaxProbes: 1, successThreshold: 2 };

/**
 * Per-worker circuit breaker: closed → open after N consecutive failures → half-open after a
 * cool-down (a limited number of probe requests) → closed after M successes, or open again on
 * any probe failure.
 */
export class CircuitBreaker {
  private current: CircuitState = 'closed';
  private failures = 0;
  private successes = 0;
  private openedAt = 0;
  private probes = 0;

  constructor(private readonly clock: Clock, private readonly config: CircuitConfig = DEFAULT_CIRCUIT, private readonly onChange?: (s: CircuitState) => void) {}

  get state(): CircuitState {
    if (this.current === 'open' && this.clock.now() - this.openedAt >= this.config.cooldownMs) this.transition('half_open');
    return this.current;
  }

  /** Whether a new request may be sent now (half-open admits a limited number of probes). */
  canPass(): boolean {
    const s = this.state;
    if (s === 'closed') return true;
    if (s === 'open') return false;
    return this.probes < this.config.halfOpenMaxProbes;
  }

  /** Marks a request as sent (counts half-open probes). */
  onSend(): void {
    if (this.state === 'half_open') this.probes++;
  }

  onSuccess(): void {
    if (this.current === 'half_open') {
      this.probes = Math.max(0, this.probes - 1);
      if (++this.successes >= this.config.successThreshold) this.transition('closed');
      return;
    }
    this.failures = 0;
  }

  onFailure(): void {
    if (this.current === 'half_open') {
      this.transition('open');
      return;
    }
    if (this.current === 'closed' && ++this.failures >= this.config.failureThreshold) this.transition('open');
  }

  private transition(next: CircuitState): void {
    if (next === this.current) return;
    this.current = next;
    this.failures = 0;
    this.successes = 0;
    this.probes = 0;
    if (next === 'open') this.openedAt = this.clock.now();
    this.onChange?.(next);
  }
}
