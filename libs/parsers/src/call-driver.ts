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

/** What one step() did with the call (see CallDriver.step). */
export const enum Step {
  /** The call needs more text. */
  More,
  /** The call is complete. */
  Done,
  /** Not a call after all, or broken off before its name was sent: the held text is content. */
  Release,
  /** Broken off after its name was sent: the call was closed with repaired arguments. */
  Closed,
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

  /**
   * feed() plus what the parsers without a closing marker (Llama 3 JSON, pythonic, Mistral's
   * `f[ARGS]{…}`) do around it: text fed before the call's name was sent goes to `hold` (it is
   * content if the call turns out not to be one), and a call that fails is settled here (closed
   * when its name was sent, else Release). Returns the new position; `last` says what happened.
   */
  step(s: string, i: number, hold: (text: string) => void): number {
    const next = this.feed(s, i);
    if (!this.started) hold(s.slice(i, next));
    if (this.rejected) this.last = Step.Release;
    else if (this.done) this.last = Step.Done;
    else if (this.failed) this.last = this.abort() ? Step.Closed : Step.Release;
    else this.last = Step.More;
    return next;
  }

  /** The outcome of the last step(). */
  last = Step.More;

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
