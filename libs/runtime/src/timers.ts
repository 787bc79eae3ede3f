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

interface SystemHandle extends TimerHandle {
  readonly raw: NodeJS.Timeout;
}

/** Node's timers behind the Timers interface. Timers are unref'd so they never hold a process open. */
export class SystemTimers implements Timers {
  private nextId = 1;

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    const raw = setTimeout(fn, Math.max(0, delayMs));
    raw.unref();
    return { id: this.nextId++, raw } as SystemHandle;
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle) clearTimeout((handle as SystemHandle).raw);
  }

  setInterval(fn: () => void, periodMs: number): TimerHandle {
    const raw = setInterval(fn, Math.max(1, periodMs));
    raw.unref();
    return { id: this.nextId++, raw } as SystemHandle;
  }

  clearInterval(handle: TimerHandle | undefined): void {
    if (handle) clearInterval((handle as SystemHandle).raw);
  }
}
