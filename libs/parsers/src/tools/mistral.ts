/**
 * Mistral: `[TOOL_CALLS]` (a special token) followed either by a JSON list
 * `[{"name": "f", "arguments": {…}}, …]` (tokenizer v3–v7) or by `f[ARGS]{…}` (v11+, one call
 * per `[TOOL_CALLS]`, optionally `f[CALL_ID]id[ARGS]{…}`). Text before the marker is content. A
 * list that turns malformed ends parsing: the rest of the output is text.
 */
import { CallDriver, Step } from '../call-driver';
import { findFirstMarker, partialMarkerLength, skipWs } from '../markers';
import { ToolParserBase, type ToolParserOptions } from './base';
import { CallList } from './call-list';
import { plainName, SeparatedCallScanner } from './separated-call';

const MARKER = '[TOOL_CALLS]';

const enum S {
  Text,
  AfterMarker,
  List,
  Named,
  RestIsText,
}

export class MistralParser extends ToolParserBase {
  private state = S.Text;
  private list: CallList | null = null;
  private driver: CallDriver | null = null;
  private raw = '';
  /** Calls made before the current list started: tells whether the list produced any. */
  private callsBeforeList = 0;
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
        case S.Text: {
          const m = findFirstMarker(buf, pos, [MARKER]);
          if (m) {
            this.sink.emitText(buf.slice(pos, m[0]));
            pos = m[0] + MARKER.length;
            this.state = S.AfterMarker;
            continue;
          }
          const hold = final ? 0 : partialMarkerLength(buf, pos, [MARKER]);
          this.sink.emitText(buf.slice(pos, buf.length - hold));
          return buf.length - hold;
        }
        case S.AfterMarker: {
          const at = skipWs(buf, pos);
          if (at === buf.length) return pos;
          pos = at;
          if (buf.charCodeAt(at) === 91) {
            this.list = new CallList(this.sink, ['arguments', 'parameters']);
            this.raw = MARKER;
            this.callsBeforeList = this.sink.count;
            this.state = S.List;
          } else {
            this.driver = new CallDriver(this.sink, new SeparatedCallScanner({ separator: '[ARGS]', skipFrom: '[CALL_ID]', nameOf: plainName }));
            this.raw = MARKER;
            this.state = S.Named;
          }
          continue;
        }
        case S.List: {
          const l = this.list as CallList;
          const start = pos;
          pos = l.feed(buf, pos);
          const none = this.sink.count === this.callsBeforeList;
          if (none) this.raw += buf.slice(start, pos);
          if (l.done) this.state = S.Text;
          else if (l.failed) {
            // A list that never produced a call is released whole, marker included.
            this.sink.emitText(none ? this.raw : l.raw);
            this.state = S.RestIsText;
          } else return pos;
          continue;
        }
        case S.Named: {
          const d = this.driver as CallDriver;
          pos = d.step(buf, pos, this.hold);
          if (d.last === Step.More) return pos;
          if (d.last === Step.Done) this.state = S.Text;
          else {
            if (d.last === Step.Release) this.sink.emitText(this.raw);
            this.state = S.RestIsText;
          }
          continue;
        }
        case S.RestIsText:
          this.sink.emitText(buf.slice(pos));
          return buf.length;
      }
    }
  }

  protected finish(rest: string): void {
    if (this.state === S.List) {
      const l = this.list as CallList;
      const raw = l.end();
      this.sink.emitText((this.sink.count === this.callsBeforeList ? this.raw : raw) + rest);
    }
    else if (this.state === S.Named) {
      if (!(this.driver as CallDriver).abort()) this.sink.emitText(this.raw + rest);
    } else if (this.state === S.AfterMarker) this.sink.emitText(MARKER + rest);
  }
}
