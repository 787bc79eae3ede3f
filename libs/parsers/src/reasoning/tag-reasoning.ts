/**
 * Reasoning between an opening and a closing tag: `<think>…</think>` (Qwen3, QwQ, DeepSeek R1,
 * Kimi K2, GLM-4.5) or Magistral's `[THINK]…[/THINK]`.
 *
 * - Not starting inside reasoning: reasoning exists only if the output opens with the tag (after
 *   whitespace); anything else means the whole output is content, released at once.
 * - Starting inside reasoning (the prompt ended with the opening tag): everything up to the
 *   closing tag is reasoning; a redundant opening tag at the very start is dropped.
 * - After the closing tag: whitespace is dropped, the rest is content. Later tags are content.
 * - The output ends inside reasoning (no closing tag): what came is reasoning.
 */
import { partialMarkerLength, skipWs } from '../markers';
import type { ReasoningChunk, ReasoningParser } from '../types';

export interface TagReasoningConfig {
  open: string;
  close: string;
  startInReasoning: boolean;
  enabled: boolean;
}

const enum S {
  /** Before any non-whitespace: maybe the opening tag. */
  Start,
  Reasoning,
  /** Right after the closing tag: drop whitespace. */
  AfterClose,
  Content,
}

export class TagReasoningParser implements ReasoningParser {
  private state: S;
  private inReasoning: boolean;
  private buf = '';
  private out: ReasoningChunk = { reasoning: '', content: '' };

  constructor(private readonly cfg: TagReasoningConfig) {
    this.inReasoning = cfg.enabled && cfg.startInReasoning;
    this.state = cfg.enabled ? S.Start : S.Content;
  }

  push(text: string): ReasoningChunk {
    if (this.state === S.Content) return { reasoning: '', content: text };
    this.buf += text;
    this.buf = this.buf.slice(this.run(this.buf, false));
    return this.take();
  }

  flush(): ReasoningChunk {
    const rest = this.buf.slice(this.run(this.buf, true));
    this.buf = '';
    if (rest !== '') {
      if (this.state === S.Start && !this.inReasoning) this.out.content += rest;
      else if (this.state === S.Start || this.state === S.Reasoning) this.out.reasoning += rest;
      else if (this.state === S.Content) this.out.content += rest;
    }
    return this.take();
  }

  private take(): ReasoningChunk {
    const o = this.out;
    this.out = { reasoning: '', content: '' };
    return o;
  }

  private run(buf: string, final: boolean): number {
    const { open, close } = this.cfg;
    let pos = 0;
    for (;;) {
      switch (this.state) {
        case S.Start: {
          const at = skipWs(buf, pos);
          if (buf.startsWith(open, at)) {
            pos = at + open.length;
            this.state = S.Reasoning;
            continue;
          }
          if (!final && open.startsWith(buf.slice(at))) return pos; // all whitespace, or part of the tag
          this.state = this.inReasoning ? S.Reasoning : S.Content;
          continue;
        }
        case S.Reasoning: {
          const i = buf.indexOf(close, pos);
          if (i !== -1) {
            this.out.reasoning += buf.slice(pos, i);
            pos = i + close.length;
            this.state = S.AfterClose;
            continue;
          }
          const hold = final ? 0 : partialMarkerLength(buf, pos, [close]);
          this.out.reasoning += buf.slice(pos, buf.length - hold);
          return buf.length - hold;
        }
        case S.AfterClose: {
          pos = skipWs(buf, pos);
          if (pos === buf.length) return pos;
          this.state = S.Content;
          continue;
        }
        case S.Content:
          this.out.content += buf.slice(pos);
          return buf.length;
      }
    }
  }
}
