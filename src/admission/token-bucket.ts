/**
 * A token bucket refilled continuously at `ratePerMinute`, holding at most `capacity`. Pure: time
 * is passed in, so the same bucket works on the system clock and in virtual time.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(readonly capacity: number, readonly ratePerMinute: number, nowMs: number) {
    this.tokens = capacity;
    this.updatedAt = nowMs;
  }

  /** Takes `cost` tokens if available. Returns 0 on success, else the ms until they would be. */
  take(cost: number, nowMs: number): number {
    const wait = this.waitFor(cost, nowMs);
    if (wait === 0) this.tokens -= cost;
    return wait;
  }

  /** The ms until `cost` tokens are available (0 = now), without taking them. */
  waitFor(cost: number, nowMs: number): number {
    this.refill(nowMs);
    if (this.tokens >= cost) return 0;
    return Math.ceil(((cost - this.tokens) / this.ratePerMinute) * 60_000);
  }

  /** Removes tokens spent elsewhere (e.g. by other mesh nodes) without a check; may go negative. */
  charge(cost: number, nowMs: number): void {
    this.refill(nowMs);
    this.tokens -= cost;
  }

  available(nowMs: number): number {
    this.refill(nowMs);
    return this.tokens;
  }

  private refill(nowMs: number): void {
    const elapsed = Math.max(0, nowMs - this.updatedAt);
    this.tokens = Math.min(this.capacity, this.tokens + (elapsed / 60_000) * this.ratePerMinute);
    this.updatedAt = nowMs;
  }
}
