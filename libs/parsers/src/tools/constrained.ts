/**
 * Output produced under a tool_choice constraint (toolChoiceConstraint): `required` forces
 * `[{"name": …, "parameters": {…}}, …]`, a named choice forces the bare arguments object. The
 * constraint makes other text impossible; should an engine ignore it anyway, whatever does not
 * fit is released as text rather than lost.
 */
import { CallDriver } from '../call-driver';
import { ArgsOnlyScanner } from '../json/named-args';
import { skipWs } from '../markers';
import { ToolParserBase, type ToolParserOptions } from './base';
import { CallList } from './call-list';

export class JsonArrayToolParser extends ToolParserBase {
  private readonly list = new CallList(this.sink, ['parameters', 'arguments']);
  private raw = '';
  private restIsText = false;

  constructor(opts: ToolParserOptions) {
    super(opts);
  }

  protected run(buf: string): number {
    if (this.restIsText || this.list.done) {
      this.sink.emitText(buf);
      return buf.length;
    }
    const used = this.list.feed(buf, 0);
    if (this.sink.count === 0) this.raw += buf.slice(0, used);
    if (this.list.failed) {
      this.sink.emitText(this.sink.count === 0 ? this.raw : this.list.raw);
      this.restIsText = true;
      this.sink.emitText(buf.slice(used));
      return buf.length;
    }
    if (this.list.done) {
      this.sink.emitText(buf.slice(used));
      return buf.length;
    }
    return used;
  }

  protected finish(rest: string): void {
    if (this.restIsText || this.list.done) return;
    const raw = this.list.end();
    this.sink.emitText((this.sink.count === 0 ? this.raw : raw) + rest);
  }
}

export class NamedToolParser extends ToolParserBase {
  private readonly driver: CallDriver;
  private restIsText = false;

  constructor(opts: ToolParserOptions & { name: string }) {
    super(opts);
    this.driver = new CallDriver(this.sink, new ArgsOnlyScanner(opts.name));
  }

  protected run(buf: string): number {
    if (this.restIsText) {
      this.sink.emitText(buf);
      return buf.length;
    }
    const d = this.driver;
    if (!d.started) {
      const at = skipWs(buf, 0);
      if (at === buf.length) return buf.length; // whitespace before the object is not content
      if (buf.charCodeAt(at) !== 123) {
        this.restIsText = true; // the constraint was not applied: plain text
        this.sink.emitText(buf);
        return buf.length;
      }
      d.sync();
    }
    const used = d.feed(buf, 0);
    if (d.done || d.failed) {
      d.abort();
      this.restIsText = true;
      this.sink.emitText(buf.slice(used));
      return buf.length;
    }
    return used;
  }

  protected finish(rest: string): void {
    if (this.driver.started) this.driver.abort();
    this.sink.emitText(rest);
  }
}
