import { scaleByAwareness } from './math';

/**
 * Lifeguard local health multiplier. A node that misses nacks it expected, or must refute a
 * suspicion about itself, is probably the slow one (overloaded, lossy link): it raises its score
 * and so waits longer before accusing others. Successful probes lower it again.
 */
export class Awareness {
  private value = 0;

  constructor(private readonly maxMultiplier: number) {}

  get score(): number {
    return this.value;
  }

  applyDelta(delta: number): void {
    this.value = Math.min(this.maxMultiplier - 1, Math.max(0, this.value + delta));
  }

  scale(timeoutMs: number): number {
    return scaleByAwareness(timeoutMs, this.value);
  }
}
