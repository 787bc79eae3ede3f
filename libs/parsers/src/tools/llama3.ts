/**
 * Llama 3.x JSON tool calls: `{"name": "f", "parameters": {…}}`, optionally after
 * `<|python_tag|>`, several separated by `;`. Plain JSON has no special token, so it is a call
 * only when the output starts with it (after whitespace), the object's first key is "name" (or
 * "type"), and the name is one of the request's tools; otherwise the whole output is text. Text
 * after the calls is text.
 */
import { CallDriver, Step } from '../call-driver';
import { CallObjectScanner } from '../json/call-object';
import { skipWs } from '../markers';
import { ToolParserBase, type ToolParserOptions } from './base';

const PYTHON_TAG = '<|python_tag|>';

const enum S {
  Start,
  Call,
  Between,
  RestIsText,
}

export class Llama3JsonParser extends ToolParserBase {
  private state = S.Start;
  private driver: CallDriver | null = null;
  private raw = '';
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
          if (at === buf.length) return pos; // only whitespace so far
          if (buf.startsWith(PYTHON_TAG, at)) {
            this.raw = buf.slice(pos, at + PYTHON_TAG.length);
            pos = at + PYTHON_TAG.length;
            this.startCall();
            continue;
          }
          const rest = buf.slice(at);
          if (!final && PYTHON_TAG.startsWith(rest)) return pos;
          if (buf.charCodeAt(at) === 123) {
            this.raw = buf.slice(pos, at);
            pos = at;
            this.startCall();
            continue;
          }
          this.state = S.RestIsText;
          continue;
        }
        case S.Call: {
          const d = this.driver as CallDriver;
          pos = d.step(buf, pos, this.hold);
          if (d.last === Step.More) return pos;
          if (d.last === Step.Done) this.state = S.Between;
          else {
            if (d.last === Step.Release) this.releaseRaw();
            this.state = S.RestIsText;
          }
          continue;
        }
        case S.Between: {
          const at = skipWs(buf, pos);
          if (at === buf.length) return final ? at : pos;
          const c = buf.charCodeAt(at);
          if (c === 59) {
            pos = at + 1;
            continue;
          }
          if (c === 123) {
            pos = at;
            this.raw = '';
            this.startCall();
            continue;
          }
          pos = at; // text after the calls, without the whitespace that separated it
          this.state = S.RestIsText;
          continue;
        }
        case S.RestIsText:
          this.sink.emitText(buf.slice(pos));
          return buf.length;
      }
    }
  }

  private startCall(): void {
    const scanner = new CallObjectScanner({ argKeys: ['parameters', 'arguments'], keysBeforeName: ['type'] });
    this.driver = new CallDriver(this.sink, scanner, (name) => this.sink.known(name));
    this.state = S.Call;
  }

  /** A would-be call that is not one: its text is content (the first call: the whole output). */
  private releaseRaw(): void {
    this.sink.emitText(this.raw);
    this.raw = '';
  }

  protected finish(rest: string): void {
    if (this.state === S.Call) {
      if (!(this.driver as CallDriver).abort()) this.releaseRaw();
    }
    if (this.state !== S.Between) this.sink.emitText(rest);
  }
}
