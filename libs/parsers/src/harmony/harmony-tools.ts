/**
 * Harmony tool calls: a message whose recipient is `functions.NAME` is a call to NAME with the
 * message body as its JSON arguments. Bodies of other messages are text (markup dropped): run
 * the harmony reasoning parser first so analysis becomes reasoning.
 */
import { CallDriver } from '../call-driver';
import { ArgsOnlyScanner } from '../json/named-args';
import { ToolParserBase, type ToolParserOptions } from '../tools/base';
import { HarmonyStream, type HarmonyEvent } from './harmony-stream';

export class HarmonyToolParser extends ToolParserBase {
  private readonly stream = new HarmonyStream();
  private driver: CallDriver | null = null;
  private inCall = false;

  constructor(opts: ToolParserOptions) {
    super(opts);
  }

  protected run(buf: string, final: boolean): number {
    const events: HarmonyEvent[] = [];
    const used = this.stream.run(buf, final, events);
    for (const e of events) this.apply(e);
    return used;
  }

  private apply(e: HarmonyEvent): void {
    switch (e.type) {
      case 'text':
        this.sink.emitText(e.text);
        return;
      case 'header': {
        const r = e.header.recipient;
        this.inCall = r !== undefined;
        if (r !== undefined) {
          const name = r.startsWith('functions.') ? r.slice('functions.'.length) : r;
          this.driver = new CallDriver(this.sink, new ArgsOnlyScanner(name));
          this.driver.sync();
        }
        return;
      }
      case 'body':
        if (!this.inCall) this.sink.emitText(e.text);
        else {
          const d = this.driver as CallDriver;
          if (!d.done && !d.failed) d.feed(e.text, 0);
        }
        return;
      case 'end':
        this.endCall();
        return;
    }
  }

  private endCall(): void {
    if (this.inCall) (this.driver as CallDriver).abort();
    this.inCall = false;
  }

  protected finish(rest: string): void {
    if (rest !== '') this.sink.emitText(rest);
    this.endCall();
  }
}
