/**
 * Splits GPT-OSS harmony output into messages. The engine's output (special tokens kept) looks
 * like `<|channel|>analysis<|message|>…<|end|><|start|>assistant<|channel|>final<|message|>…<|return|>`
 * (the prompt already ended with `<|start|>assistant`); a tool call is a message whose header has
 * a recipient: `<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{…}<|call|>`
 * (the recipient may also sit in the role part: `<|start|>assistant to=functions.f<|channel|>…`).
 */
import { findFirstMarker, partialMarkerLength } from '../markers';

export const H = {
  start: '<|start|>',
  channel: '<|channel|>',
  message: '<|message|>',
  end: '<|end|>',
  call: '<|call|>',
  ret: '<|return|>',
} as const;

export interface HarmonyHeader {
  channel: string;
  /** e.g. "functions.get_weather"; undefined for messages to the user. */
  recipient: string | undefined;
  /** The header's raw text, markers included. */
  raw: string;
}

export type HarmonyEvent =
  | { type: 'text'; text: string }
  | { type: 'header'; header: HarmonyHeader }
  | { type: 'body'; text: string }
  | { type: 'end'; raw: string };

/** Longest header accepted (role, channel, recipient, constraint). */
const MAX_HEADER = 512;

const OUTSIDE = [H.start, H.channel];
const BODY_END = [H.end, H.call, H.ret, H.start, H.channel];

const enum S {
  Outside,
  Header,
  Body,
}

export function parseHeader(raw: string): HarmonyHeader {
  const channel = /<\|channel\|>\s*([^\s<]+)/.exec(raw)?.[1] ?? '';
  const recipient = /\bto=([^\s<]+)/.exec(raw)?.[1];
  return { channel, recipient, raw };
}

export class HarmonyStream {
  private state = S.Outside;
  private header = '';

  /** Consumes what can be decided from `buf`, appending events; returns the consumed length. */
  run(buf: string, final: boolean, events: HarmonyEvent[]): number {
    let pos = 0;
    for (;;) {
      if (this.state === S.Header) {
        const i = buf.indexOf(H.message, pos);
        // A header is short: keep it whole until <|message|> arrives. When none comes within
        // MAX_HEADER characters the opening marker was not a header: it is text.
        const tooLong = i === -1 ? buf.length - pos > MAX_HEADER : i - pos > MAX_HEADER;
        if (tooLong || (i === -1 && final)) {
          events.push({ type: 'text', text: this.header });
          this.header = '';
          this.state = S.Outside;
          continue;
        }
        if (i === -1) return pos;
        this.header += buf.slice(pos, i) + H.message;
        pos = i + H.message.length;
        events.push({ type: 'header', header: parseHeader(this.header) });
        this.header = '';
        this.state = S.Body;
        continue;
      }
      const markers = this.state === S.Outside ? OUTSIDE : BODY_END;
      const m = findFirstMarker(buf, pos, markers);
      const until = m ? m[0] : buf.length - (final ? 0 : partialMarkerLength(buf, pos, markers));
      if (until > pos) events.push({ type: this.state === S.Outside ? 'text' : 'body', text: buf.slice(pos, until) } as HarmonyEvent);
      if (!m) return until;
      pos = m[0] + m[1].length;
      if (m[1] === H.start || m[1] === H.channel) {
        if (this.state === S.Body) events.push({ type: 'end', raw: '' }); // a message left unterminated
        this.header = m[1];
        this.state = S.Header;
      } else {
        events.push({ type: 'end', raw: m[1] });
        this.state = S.Outside;
      }
    }
  }

  /** End of stream inside a message body: the message ends there. */
  get inBody(): boolean {
    return this.state === S.Body;
  }
}
