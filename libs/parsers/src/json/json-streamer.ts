/**
 * An incremental, validating scanner for one JSON value that releases its raw text as it arrives,
 * but only as a prefix that can always be completed into valid JSON: an escape sequence, a number,
 * a literal (true/false/null) and a comma (with the whitespace after it) are held until they are
 * complete or the next token starts. So if the model's text breaks off or turns malformed,
 * `repair()` returns the few characters that close what was already released.
 */
import { isWs } from '../markers';

const enum S {
  Value,
  ObjFirst,
  ObjKey,
  Colon,
  ObjNext,
  ArrFirst,
  ArrItem,
  ArrNext,
  Str,
  Num,
  Lit,
  Done,
  Error,
}

const NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;
const HEX = /^[0-9a-fA-F]$/;

export class JsonStreamer {
  private state = S.Value;
  private readonly stack: number[] = []; // char codes of '{' / '['
  private held = '';
  private out = '';
  private strIsKey = false;
  /** 0: not in an escape; 1: after '\'; 2..5: reading \uXXXX digits. */
  private esc = 0;
  private literal = '';
  /** The first character of the value: lets callers tell an object from a string, etc. */
  firstChar = '';

  /** `allowedFirst`: characters the value may start with (e.g. '{'); others fail at once, unconsumed. */
  constructor(private readonly allowedFirst?: string) {}

  get done(): boolean {
    return this.state === S.Done;
  }

  get failed(): boolean {
    return this.state === S.Error;
  }

  /** Raw text released since the last call. */
  drain(): string {
    const o = this.out;
    this.out = '';
    return o;
  }

  /**
   * Consumes characters of `s` from `i` until the value is complete, the input ends or the text
   * stops being JSON. Returns the index after the last consumed character (a delimiter that ends a
   * number is not consumed).
   */
  feed(s: string, i: number): number {
    const n = s.length;
    while (i < n) {
      const st = this.state;
      if (st === S.Done || st === S.Error) return i;
      const c = s.charCodeAt(i);
      if (st === S.Str) {
        if (this.esc === 0) {
          // Fast path: copy a run of plain string characters at once.
          let j = i;
          while (j < n) {
            const d = s.charCodeAt(j);
            if (d === 34 || d === 92 || d < 32) break;
            j++;
          }
          if (j > i) {
            this.out += s.slice(i, j);
            i = j;
            continue;
          }
          if (c === 34) {
            this.out += '"';
            i++;
            if (this.strIsKey) this.state = S.Colon;
            else this.afterValue();
          } else if (c === 92) {
            this.held = '\\';
            this.esc = 1;
            i++;
          } else {
            this.markError(); // raw control character inside a string
          }
          continue;
        }
        if (this.esc === 1) {
          const ch = s[i];
          if (ch === 'u') {
            this.held += ch;
            this.esc = 2;
          } else if ('"\\/bfnrt'.includes(ch)) {
            this.out += this.held + ch;
            this.held = '';
            this.esc = 0;
          } else {
            this.markError();
            continue;
          }
          i++;
          continue;
        }
        if (!HEX.test(s[i])) {
          this.markError();
          continue;
        }
        this.held += s[i];
        i++;
        if (++this.esc === 6) {
          this.out += this.held;
          this.held = '';
          this.esc = 0;
        }
        continue;
      }
      if (st === S.Num) {
        if ((c >= 48 && c <= 57) || c === 46 || c === 101 || c === 69 || c === 43 || c === 45) {
          this.held += s[i];
          i++;
          continue;
        }
        if (!this.finishNumber()) return i;
        continue; // re-read the delimiter in the new state
      }
      if (st === S.Lit) {
        const next = this.held + s[i];
        if (!this.literal.startsWith(next)) {
          this.markError();
          continue;
        }
        this.held = next;
        i++;
        if (next === this.literal) {
          this.out += next;
          this.held = '';
          this.afterValue();
        }
        continue;
      }
      if (isWs(c)) {
        if (st === S.ObjKey || st === S.ArrItem) this.held += s[i];
        else if (st !== S.Value || this.stack.length > 0 || this.firstChar !== '') this.out += s[i];
        // Leading whitespace before the value is skipped, not part of the value.
        i++;
        continue;
      }
      switch (st) {
        case S.Value:
        case S.ArrItem:
          this.startValue(s[i]);
          break;
        case S.ArrFirst:
          if (c === 93) this.close();
          else this.startValue(s[i]);
          break;
        case S.ObjFirst:
          if (c === 125) this.close();
          else if (c === 34) this.startKey();
          else this.markError();
          break;
        case S.ObjKey:
          if (c === 34) this.startKey();
          else this.markError();
          break;
        case S.Colon:
          if (c === 58) {
            this.out += ':';
            this.state = S.Value;
          } else this.markError();
          break;
        case S.ObjNext:
          if (c === 44) {
            this.held = ',';
            this.state = S.ObjKey;
          } else if (c === 125) this.close();
          else this.markError();
          break;
        case S.ArrNext:
          if (c === 44) {
            this.held = ',';
            this.state = S.ArrItem;
          } else if (c === 93) this.close();
          else this.markError();
          break;
      }
      if (this.state !== S.Error) i++;
    }
    return i;
  }

  /** End of input: a number running to the very end is complete. */
  end(): void {
    if (this.state === S.Num) this.finishNumber();
  }

  /** Characters that turn everything released so far into valid JSON (empty when done). */
  repair(): string {
    let suffix = '';
    let expectValue = false;
    switch (this.state) {
      case S.Done:
        return '';
      case S.Str:
        suffix = '"';
        if (this.strIsKey) suffix += ':null';
        break;
      case S.Colon:
        suffix = ':null';
        break;
      case S.Value:
      case S.Num:
      case S.Lit:
        expectValue = true;
        break;
      case S.Error:
        return this.repairAfterError();
    }
    if (expectValue) {
      if (this.stack.length === 0 && this.firstChar === '') return '{}';
      // Inside a container a value is awaited only right after ':' (array items wait in ArrItem
      // with their comma held, objects start in ObjFirst).
      if (this.stack.length > 0) suffix += 'null';
    }
    return suffix + this.closers();
  }

  private errorState: S = S.Error;

  private repairAfterError(): string {
    const saved = this.state;
    this.state = this.errorState;
    const r = this.repair();
    this.state = saved;
    return r;
  }

  private closers(): string {
    let s = '';
    for (let k = this.stack.length - 1; k >= 0; k--) s += this.stack[k] === 123 ? '}' : ']';
    return s;
  }

  private startValue(ch: string): void {
    if (this.firstChar === '') {
      if (this.allowedFirst !== undefined && !this.allowedFirst.includes(ch)) {
        this.markError();
        return;
      }
      this.firstChar = ch;
    }
    const c = ch.charCodeAt(0);
    if (c === 123 || c === 91) {
      this.out += this.held + ch;
      this.held = '';
      this.stack.push(c);
      this.state = c === 123 ? S.ObjFirst : S.ArrFirst;
    } else if (c === 34) {
      this.out += this.held + ch;
      this.held = '';
      this.strIsKey = false;
      this.state = S.Str;
    } else if (c === 45 || (c >= 48 && c <= 57)) {
      this.out += this.held;
      this.held = ch;
      this.state = S.Num;
    } else if (ch === 't' || ch === 'f' || ch === 'n') {
      this.out += this.held;
      this.held = ch;
      this.literal = ch === 't' ? 'true' : ch === 'f' ? 'false' : 'null';
      this.state = S.Lit;
    } else {
      this.markError();
    }
  }

  private startKey(): void {
    this.out += this.held + '"';
    this.held = '';
    this.strIsKey = true;
    this.state = S.Str;
  }

  private close(): void {
    this.out += this.stack.pop() === 123 ? '}' : ']';
    this.afterValue();
  }

  private finishNumber(): boolean {
    if (!NUMBER.test(this.held)) {
      this.held = '';
      this.markError();
      return false;
    }
    this.out += this.held;
    this.held = '';
    this.afterValue();
    return true;
  }

  private afterValue(): void {
    if (this.stack.length === 0) this.state = S.Done;
    else this.state = this.stack[this.stack.length - 1] === 123 ? S.ObjNext : S.ArrNext;
  }

  /** Remembers where we were so repair() can close the released prefix after an error. */
  private markError(): void {
    this.errorState = this.state;
    this.held = '';
    this.state = S.Error;
  }
}
