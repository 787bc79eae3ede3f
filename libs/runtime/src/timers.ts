export interface TimerHandle {
  readonly id: number;
}

/** Scheduling of callbacks. System timers in production, the VirtualScheduler in simulation. */
export interface Timers {
  setTimeout(fn: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
  setInterval(fn: () => void, periodMs: number): TimerHandle;
  clearInterval(handle: TimerHandle | undefined): void;
}

type SystemHandle = TimerHandle & ({ readonly kind: 'timeout'; readonly raw: NodeJS.Timeout } | { readonly kind: 'immediate'; readonly raw: NodeJS.Immediate });

/** Node's timers behind the Timers interface. Timers are unref'd so they never hold a process open. */
export class SystemTimers implements Timers {
  private nextId = 1;

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    // Node clamps setTimeout to ≥ 1 ms; a zero delay means "next turn", which setImmediate gives.
    if (delayMs <= 0) {
      const immediate: SystemHandle = { id: this.nextId++, kind: 'immediate', raw: setImmediate(fn) };
      return immediate;
    }
    const raw = setTimeout(fn, delayMs);
    raw.unref();
    const timeout: SystemHandle = { id: this.nextId++, kind: 'timeout', raw };
    return timeout;
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (!handle) return;
    const h = handle as SystemHandle;
    if (h.kind === 'immediate') clearImmediate(h.raw);
    else clearTimeout(h.raw);
  }

  setInterval(fn: () => void, periodMs: number): TimerHandle {
    const raw = setInterval(fn, Math.max(1, periodMs));
    raw.unref();
    const interval: SystemHandle = { id: this.nextId++, kind: 'timeout', raw };
    return interval;
  }

  clearInterval(handle: TimerHandle | undefined): void {
    if (handle) clearInterval((handle as SystemHandle & { kind: 'timeout' }).raw);
  }
}
