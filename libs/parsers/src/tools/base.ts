/**
 * Common shell of the tool-call parsers: an input buffer holding only what cannot be decided
 * yet, a CallSink collecting output, and push/flush. Subclasses implement `run` (consume what can
 * be decided; `final` means no more text will come) and `finish` (what to do with the rest).
 */
import type { Rng } from '@drover/runtime';
import { CallSink } from '../call-sink';
import type { ToolCallParser, ToolChunk, ToolDefinition, ToolFlush } from '../types';

export interface ToolParserOptions {
  /** The request's tools; names outside it are handled as documented per format. */
  tools?: readonly ToolDefinition[] | null;
  /** Source of call ids. */
  rng: Rng;
}

export abstract class ToolParserBase implements ToolCallParser {
  private buf = '';
  protected readonly sink: CallSink;

  constructor(opts: ToolParserOptions) {
    const names = opts.tools && opts.tools.length > 0 ? new Set(opts.tools.map((t) => t.function.name)) : null;
    this.sink = new CallSink(names, opts.rng);
  }

  push(text: string): ToolChunk {
    this.buf += text;
    const pos = this.run(this.buf, false);
    this.buf = pos === this.buf.length ? '' : this.buf.slice(pos);
    return this.sink.take();
  }

  flush(): ToolFlush {
    const pos = this.run(this.buf, true);
    this.finish(this.buf.slice(pos));
    this.buf = '';
    this.sink.end();
    const out = this.sink.take();
    return { ...out, finishReason: this.sink.count > 0 ? 'tool_calls' : null, malformed: this.sink.malformed, unknownTools: this.sink.unknown };
  }

  /** Consumes what can be decided; returns the index of the first unconsumed character. */
  protected abstract run(buf: string, final: boolean): number;

  /** End of stream; `rest` is the unconsumed text. */
  protected abstract finish(rest: string): void;
}
