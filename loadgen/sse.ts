/**
 * Incremental Server-Sent Events parser: feed it chunks as they arrive (events may be split
 * anywhere, lines may end in LF, CRLF or CR) and it hands back each complete event's data.
 * Only `data:` fields matter to an OpenAI-compatible stream; `event:` is kept so a server's
 * `event: error` is not mistaken for content.
 */
export interface SseEvent {
  event: string;
  data: string;
}

export class SseParser {
  private pending = '';
  private dataLines: string[] = [];
  private eventName = '';
  private sawCarriageReturn = false;

  push(chunk: string): SseEvent[] {
    const out: SseEvent[] = [];
    let text = this.pending + chunk;
    // A CR at the end of the previous chunk already ended a line; its LF partner is dropped here.
    if (this.sawCarriageReturn && text.startsWith('\n')) text = text.slice(1);
    this.sawCarriageReturn = false;
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.line(text.slice(start, i), out);
      if (c === 13) {
        if (i + 1 < text.length) {
          if (text.charCodeAt(i + 1) === 10) i++;
        } else this.sawCarriageReturn = true;
      }
      start = i + 1;
    }
    this.pending = text.slice(start);
    return out;
  }

  /** True when the input ended in the middle of an event (a truncated stream). */
  get midEvent(): boolean {
    return this.pending.length > 0 || this.dataLines.length > 0;
  }

  private line(line: string, out: SseEvent[]): void {
    if (line === '') {
      if (this.dataLines.length > 0) out.push({ event: this.eventName || 'message', data: this.dataLines.join('\n') });
      this.dataLines = [];
      this.eventName = '';
      return;
    }
    if (line.startsWith(':')) return; // comment / keep-alive
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.dataLines.push(value);
    else if (field === 'event') this.eventName = value;
  }
}
