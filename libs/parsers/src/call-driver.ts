/**
 * Drives one call scanner into the sink: announces the call (id + name) as soon as the scanner
 * knows the name, then forwards argument text as the scanner releases it.
 */
import type { CallSink } from './call-sink';

/** What a per-call scanner exposes (CallObjectScanner and the format-specific ones). */
export interface CallScanner {
  feed(s: string, i: number): number;
  readonly name: string | undefined;
  readonly done: boolean;
  readonly failed: boolean;
  drainArgs(): string;
  /** Closes released arguments into valid JSON ('{}' when none were released). */
  repair(): string;
}

export class CallDriver {
  started = false;
  /** The name was refused by `accept`: the call never started (see `started`). */
  rejected = false;

  constructor(
    private readonly sink: CallSink,
    readonly scanner: CallScanner,
    /** Decides whether a completed name makes this a call at all (formats without markers). */
    private readonly accept?: (name: string) => boolean,
  ) {}

  get done(): boolean {
    return this.scanner.done;
  }

  get failed(): boolean {
    return this.scanner.failed;
  }

  feed(s: string, i: number): number {
    const next = this.scanner.feed(s, i);
    this.sync();
    return next;
  }

  sync(): void {
    if (this.rejected) return;
    if (!this.started && this.scanner.name !== undefined) {
      if (this.accept && !this.accept(this.scanner.name)) {
        this.rejected = true;
        return;
      }
      this.started = true;
      this.sink.begin(this.scanner.name);
    }
    if (this.started) this.sink.args(this.scanner.drainArgs());
  }

  /**
   * The call's text ended early or turned malformed. A started call is closed with repaired
   * arguments and counted as malformed; returns whether the call had started (else the caller
   * releases the call's raw text as plain text).
   */
  abort(): boolean {
    if (!this.started) return false;
    if (!this.scanner.done) {
      this.sink.args(this.scanner.repair());
      this.sink.malformed++;
    }
    return true;
  }
}
