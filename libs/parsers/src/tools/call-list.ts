/**
 * A JSON array of call objects, `[{"name": …, "arguments": …}, …]`: Mistral's `[TOOL_CALLS][…]`
 * and the array tool_choice required constrains the output to.
 */
import { CallDriver } from '../call-driver';
import type { CallSink } from '../call-sink';
import { CallObjectScanner } from '../json/call-object';
import { isWs } from '../markers';

const enum S {
  Open,
  Item,
  After,
  Done,
  Failed,
}

export class CallList {
  private state = S.Open;
  private driver: CallDriver | null = null;
  /** Raw text of the current item while its name is unknown (released as text on failure). */
  raw = '';

  constructor(
    private readonly sink: CallSink,
    private readonly argKeys: readonly string[],
  ) {}

  get done(): boolean {
    return this.state === S.Done;
  }

  get failed(): boolean {
    return this.state === S.Failed;
  }

  /** Consumes list text from `i`; returns the index after what was consumed. */
  feed(s: string, i: number): number {
    while (i < s.length) {
      const c = s.charCodeAt(i);
      switch (this.state) {
        case S.Open:
          if (isWs(c)) i++;
          else if (c === 91) {
            i++;
            this.next();
          } else this.state = S.Failed;
          break;
        case S.Item: {
          const d = this.driver as CallDriver;
          const start = i;
          i = d.feed(s, i);
          if (!d.started) this.raw += s.slice(start, i);
          if (d.done) this.state = S.After;
          else if (d.failed) this.fail();
          break;
        }
        case S.After:
          if (isWs(c)) i++;
          else if (c === 44) {
            i++;
            this.next();
          } else if (c === 93) {
            i++;
            this.state = S.Done;
          } else this.state = S.Failed;
          break;
        default:
          return i;
      }
    }
    return i;
  }

  /** End of input inside the list: close a started call. Returns raw text to release, if any. */
  end(): string {
    if (this.state === S.Item) {
      this.fail();
      return this.raw;
    }
    return '';
  }

  private next(): void {
    this.driver = new CallDriver(this.sink, new CallObjectScanner({ argKeys: this.argKeys }));
    this.raw = '';
    this.state = S.Item;
  }

  private fail(): void {
    if ((this.driver as CallDriver).abort()) this.raw = '';
    this.state = S.Failed;
  }
}
