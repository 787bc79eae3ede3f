/**
 * Pythonic tool calls (Llama 4, some others): `[get_weather(city="Paris"), get_time(tz='CET')]`,
 * optionally wrapped in `<|python_start|>…<|python_end|>`. Keyword arguments only; values are
 * Python literals, converted to JSON. Like Llama 3 JSON it has no special token, so it is a call
 * list only when the output starts with `[` and the first name is one of the request's tools;
 * otherwise the whole output is text. Arguments are released one complete keyword argument at a
 * time (a Python literal is converted once it is complete).
 */
import { CallDriver, type CallScanner, Step } from '../call-driver';
import { isWs, skipWs } from '../markers';
import { ToolParserBase, type ToolParserOptions } from './base';
import { pyLiteralToJson } from './py-literal';

const START = '<|python_start|>';
const END = '<|python_end|>';
const IDENT_START = /[A-Za-z_]/;
const IDENT = /[\w.]/;
/** No tool name is longer: a longer identifier is prose, decided without holding it all. */
const MAX_NAME = 256;

const enum C {
  Name,
  Key,
  Eq,
  Value,
  Done,
  Bad,
}

/** One `name(key=value, …)`. */
class PythonicCallScanner implements CallScanner {
  private state = C.Name;
  private nameText = '';
  private key = '';
  private value = '';
  private depth = 0;
  private quote = '';
  private esc = false;
  private quoteStart = 0;
  private maybeTriple = false;
  private emptyQuote = '';
  private out = '';
  private kwargs = 0;
  name: string | undefined;

  get done(): boolean {
    return this.state === C.Done;
  }

  get failed(): boolean {
    return this.state === C.Bad;
  }

  drainArgs(): string {
    const o = this.out;
    this.out = '';
    return o;
  }

  repair(): string {
    if (this.state === C.Done) return '';
    return this.kwargs > 0 ? '}' : '{}';
  }

  feed(s: string, i: number): number {
    while (i < s.length) {
      const ch = s[i];
      switch (this.state) {
        case C.Name:
          if (ch === '(' && this.nameText !== '') {
            this.name = this.nameText;
            this.state = C.Key;
          } else if ((this.nameText === '' ? IDENT_START.test(ch) : IDENT.test(ch)) && this.nameText.length < MAX_NAME) this.nameText += ch;
          else return this.bad(i);
          break;
        case C.Key:
          if (isWs(ch.charCodeAt(0)) && this.key === '') break;
          if (ch === ')' && this.key === '') return this.close(i);
          if (this.key === '' ? IDENT_START.test(ch) : IDENT.test(ch)) this.key += ch;
          else if (ch === '=' && this.key !== '') this.state = C.Value;
          else if (isWs(ch.charCodeAt(0))) this.state = C.Eq;
          else return this.bad(i);
          break;
        case C.Eq:
          if (ch === '=') this.state = C.Value;
          else if (!isWs(ch.charCodeAt(0))) return this.bad(i);
          break;
        case C.Value:
          if (this.valueChar(ch)) {
            if (!this.endValue()) return this.bad(i);
            if (ch === ')') return this.close(i);
            this.state = C.Key;
          }
          break;
        default:
          return i;
      }
      i++;
    }
    return i;
  }

  /** Adds a character to the value; true when it ends the value (a top-level ',' or ')'). */
  private valueChar(ch: string): boolean {
    if (this.maybeTriple) {
      this.maybeTriple = false;
      if (ch === this.emptyQuote) {
        // `''` followed by a third quote opens a triple-quoted string.
        this.quote = ch.repeat(3);
        this.value += ch;
        return false;
      }
    }
    if (this.quote !== '') {
      this.value += ch;
      if (this.esc) this.esc = false;
      else if (ch === '\\') this.esc = true;
      else if (this.quote.length === 1 && ch === this.quote) {
        if (this.value.length === this.quoteStart + 2) {
          this.maybeTriple = true;
          this.emptyQuote = ch;
        }
        this.quote = '';
      } else if (this.quote.length === 3 && this.value.endsWith(this.quote) && this.value.length >= this.quoteStart + 6) this.quote = '';
      return false;
    }
    if (this.depth === 0 && (ch === ',' || ch === ')')) return true;
    if (ch === '"' || ch === "'") {
      this.quote = ch;
      this.quoteStart = this.value.length;
    } else if ('([{'.includes(ch)) this.depth++;
    else if (')]}'.includes(ch)) this.depth--;
    this.value += ch;
    return false;
  }

  private endValue(): boolean {
    const json = pyLiteralToJson(this.value.trim());
    if (json === undefined) return false;
    this.out += `${this.kwargs === 0 ? '{' : ', '}${JSON.stringify(this.key)}: ${json}`;
    this.kwargs++;
    this.key = '';
    this.value = '';
    this.maybeTriple = false;
    return true;
  }

  private close(i: number): number {
    this.out += this.kwargs === 0 ? '{}' : '}';
    this.state = C.Done;
    return i + 1;
  }

  private bad(i: number): number {
    this.state = C.Bad;
    return i;
  }
}

const enum S {
  Start,
  Open,
  Call,
  AfterCall,
  AfterList,
  RestIsText,
}

export class PythonicParser extends ToolParserBase {
  private state = S.Start;
  private driver: CallDriver | null = null;
  private raw = '';
  private wrapped = false;
  private readonly hold = (text: string) => {
    this.raw += text;
  };

  constructor(opts: ToolParserOptions) {
    super(opts);
  }

  protected run(buf: string, final: boolean): number {
    let pos = 0;
    for (;;) {
      switch (this.state) {
        case S.Start: {
          const at = skipWs(buf, pos);
          if (at === buf.length) return pos;
          if (buf.startsWith(START, at)) {
            this.raw += buf.slice(pos, at + START.length);
            pos = at + START.length;
            this.wrapped = true;
            continue;
          }
          if (!final && !this.wrapped && START.startsWith(buf.slice(at))) return pos;
          if (buf.charCodeAt(at) !== 91) {
            this.releaseRaw();
            this.state = S.RestIsText;
            continue;
          }
          this.raw += buf.slice(pos, at + 1);
          pos = at + 1;
          this.state = S.Open;
          continue;
        }
        case S.Open: {
          const at = skipWs(buf, pos);
          if (!this.driver || !this.driver.started) this.raw += buf.slice(pos, at);
          if (at === buf.length) return at;
          pos = at;
          const first = this.sink.count === 0;
          this.driver = new CallDriver(this.sink, new PythonicCallScanner(), first ? (name) => this.sink.known(name) : undefined);
          this.state = S.Call;
          continue;
        }
        case S.Call: {
          const d = this.driver as CallDriver;
          pos = d.step(buf, pos, this.hold);
          if (d.last === Step.More) return pos;
          if (d.last === Step.Done) this.state = S.AfterCall;
          else {
            if (d.last === Step.Release) this.releaseRaw();
            this.state = S.RestIsText;
          }
          continue;
        }
        case S.AfterCall: {
          const at = skipWs(buf, pos);
          if (at === buf.length) return at;
          const c = buf.charCodeAt(at);
          pos = at + 1;
          if (c === 44) this.state = S.Open;
          else if (c === 93) this.state = S.AfterList;
          else {
            pos = at;
            this.state = S.RestIsText;
          }
          continue;
        }
        case S.AfterList: {
          const at = skipWs(buf, pos);
          if (at === buf.length) return at;
          if (buf.startsWith(END, at)) {
            pos = at + END.length;
            this.state = S.RestIsText;
            continue;
          }
          if (!final && END.startsWith(buf.slice(at))) return pos;
          pos = at;
          this.state = S.RestIsText;
          continue;
        }
        case S.RestIsText:
          this.sink.emitText(buf.slice(pos));
          return buf.length;
      }
    }
  }

  private releaseRaw(): void {
    this.sink.emitText(this.raw);
    this.raw = '';
  }

  protected finish(rest: string): void {
    if (this.state === S.Call) {
      if (!(this.driver as CallDriver).abort()) this.releaseRaw();
      this.sink.emitText(rest);
    } else if (this.state === S.Start || this.state === S.Open) {
      if (this.sink.count === 0) this.releaseRaw();
      this.sink.emitText(rest);
    } else if (this.state === S.RestIsText) this.sink.emitText(rest);
  }
}
