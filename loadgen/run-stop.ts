/**
 * The run's stop, fanned out. Every in-flight request and every pacing wait needs to hear it, but
 * listeners piled onto one AbortSignal trip Node's MaxListenersExceededWarning past ten (a run at
 * concurrency 11 already does). So each waiter gets an AbortSignal of its own with exactly one
 * listener, and stopping aborts them all from this set.
 */
export class RunStop {
  private readonly waiters = new Set<AbortController>();
  private done = false;

  get stopped(): boolean {
    return this.done;
  }

  /** Aborts every signal handed out and not yet released, and every one handed out from now on. */
  stop(): void {
    if (this.done) return;
    this.done = true;
    for (const w of this.waiters) w.abort();
    this.waiters.clear();
  }

  /** Runs `work` with a signal of its own that aborts when the run stops; forgotten when it settles. */
  async with<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const c = new AbortController();
    if (this.done) c.abort();
    else this.waiters.add(c);
    try {
      return await work(c.signal);
    } finally {
      this.waiters.delete(c);
    }
  }

  /** How many signals are out (for tests: the set must not grow with the number of requests). */
  get pending(): number {
    return this.waiters.size;
  }
}
