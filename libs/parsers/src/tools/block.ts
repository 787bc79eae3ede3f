/**
 * Formats where each call sits between special-token markers, anywhere in the output:
 * Hermes/Qwen `<tool_call>…</tool_call>`, DeepSeek V3 `<｜tool▁call▁begin｜>…<｜tool▁call▁end｜>`,
 * Kimi K2 `<|tool_call_begin|>…<|tool_call_end|>`. Section markers around a group of calls are
 * dropped wherever they appear. The markers are exact special tokens, so any call inside them is
 * a call (even to a name the request did not offer). A block whose name never completes is
 * released as text, markers included.
 */
import { CallDriver, type CallScanner } from '../call-driver';
import { findFirstMarker, partialMarkerLength, skipWs } from '../markers';
import { ToolParserBase, type ToolParserOptions } from './base';

export interface BlockFormat {
  open: string;
  close: string;
  /** Markers dropped wherever they appear outside a call (section begin/end). */
  ignore: readonly string[];
  /** Text allowed between the end of the arguments and the close marker (e.g. a code fence). */
  trailer?: string;
  body(): CallScanner;
}

/** How far after a call's arguments the close marker may still be looked for. */
const STRAY_LIMIT = 16;

const enum S {
  Text,
  Body,
  AfterBody,
  SkipAsText,
  SkipDrop,
}

export class BlockToolParser extends ToolParserBase {
  private state = S.Text;
  private driver: CallDriver | null = null;
  private raw = '';
  private readonly textMarkers: string[];

  constructor(
    private readonly format: BlockFormat,
    opts: ToolParserOptions,
  ) {
    super(opts);
    this.textMarkers = [format.open, ...format.ignore];
  }

  protected run(buf: string, final: boolean): number {
    const { open, close } = this.format;
    let pos = 0;
    for (;;) {
      switch (this.state) {
        case S.Text: {
          const m = findFirstMarker(buf, pos, this.textMarkers);
          if (m) {
            this.sink.emitText(buf.slice(pos, m[0]));
            pos = m[0] + m[1].length;
            if (m[1] === open) {
              this.driver = new CallDriver(this.sink, this.format.body());
              this.raw = open;
              this.state = S.Body;
            }
            continue;
          }
          const hold = final ? 0 : partialMarkerLength(buf, pos, this.textMarkers);
          this.sink.emitText(buf.slice(pos, buf.length - hold));
          return buf.length - hold;
        }
        case S.Body: {
          const d = this.driver as CallDriver;
          const start = pos;
          pos = d.feed(buf, pos);
          if (!d.started) this.raw += buf.slice(start, pos);
          if (d.done) {
            this.state = S.AfterBody;
            continue;
          }
          if (d.failed) {
            this.state = this.abort() ? S.SkipDrop : S.SkipAsText;
            continue;
          }
          return pos;
        }
        case S.AfterBody: {
          pos = skipWs(buf, pos);
          const trailer = this.format.trailer;
          if (trailer && buf.startsWith(trailer, pos)) {
            pos = skipWs(buf, pos + trailer.length);
          }
          if (pos === buf.length) return pos;
          if (buf.startsWith(close, pos)) {
            pos += close.length;
            this.state = S.Text;
            continue;
          }
          // Stray characters before the close marker (an extra '}' is a common slip) are dropped
          // when the marker follows within a few characters; a missing marker is tolerated.
          const i = buf.indexOf(close, pos);
          if (i !== -1 && i - pos <= STRAY_LIMIT) {
            pos = i + close.length;
            this.state = S.Text;
            continue;
          }
          if (!final && i === -1 && buf.length - pos <= STRAY_LIMIT) return pos;
          this.state = S.Text;
          continue;
        }
        default: {
          const asText = this.state === S.SkipAsText;
          const i = buf.indexOf(close, pos);
          if (i !== -1) {
            if (asText) this.sink.emitText(buf.slice(pos, i + close.length));
            pos = i + close.length;
            this.state = S.Text;
            continue;
          }
          const hold = final ? 0 : partialMarkerLength(buf, pos, [close]);
          if (asText) this.sink.emitText(buf.slice(pos, buf.length - hold));
          return buf.length - hold;
        }
      }
    }
  }

  /** Ends the current call early; true when it had started (else its raw text was released). */
  private abort(): boolean {
    if ((this.driver as CallDriver).abort()) return true;
    this.sink.emitText(this.raw);
    this.raw = '';
    return false;
  }

  protected finish(rest: string): void {
    if (this.state === S.Body && !this.abort()) this.sink.emitText(rest);
    else if (this.state === S.SkipAsText) this.sink.emitText(rest);
  }
}
