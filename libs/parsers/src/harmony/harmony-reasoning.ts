/**
 * Harmony reasoning split: the analysis channel is reasoning, the final channel and commentary
 * preambles (commentary without a recipient) are content. A message with a recipient (a tool
 * call) is passed on to the content raw, markers included, so the harmony tool-call parser that
 * runs on the content next can read it. Text outside any message is content.
 */
import type { ReasoningChunk, ReasoningParser } from '../types';
import { HarmonyStream, type HarmonyEvent } from './harmony-stream';

const enum Route {
  Reasoning,
  Content,
  RawCall,
}

export class HarmonyReasoningParser implements ReasoningParser {
  private readonly stream = new HarmonyStream();
  private buf = '';
  private route = Route.Content;

  constructor(private readonly enabled: boolean) {}

  push(text: string): ReasoningChunk {
    this.buf += text;
    return this.step(false);
  }

  flush(): ReasoningChunk {
    const out = this.step(true);
    this.buf = '';
    return out;
  }

  private step(final: boolean): ReasoningChunk {
    const events: HarmonyEvent[] = [];
    const used = this.stream.run(this.buf, final, events);
    this.buf = this.buf.slice(used);
    const out: ReasoningChunk = { reasoning: '', content: '' };
    for (const e of events) {
      if (e.type === 'text') out.content += e.text;
      else if (e.type === 'header') {
        const h = e.header;
        if (h.recipient !== undefined) {
          this.route = Route.RawCall;
          out.content += h.raw;
        } else this.route = h.channel === 'analysis' && this.enabled ? Route.Reasoning : Route.Content;
      } else if (e.type === 'body') {
        if (this.route === Route.Reasoning) out.reasoning += e.text;
        else out.content += e.text;
      } else {
        if (this.route === Route.RawCall) out.content += e.raw === '' ? '<|call|>' : e.raw;
        this.route = Route.Content;
      }
    }
    return out;
  }
}
