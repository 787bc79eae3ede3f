/**
 * A call written as a head, a separator marker, then the JSON arguments:
 * - Mistral (v11+):  `get_weather[ARGS]{"city": "Paris"}` (optionally `name[CALL_ID]abc[ARGS]{…}`)
 * - Kimi K2:         `functions.get_weather:0<|tool_call_argument_begin|>{…}`
 * - DeepSeek V3.1:   `get_weather<｜tool▁sep｜>{…}`
 * - DeepSeek V3:     `function<｜tool▁sep｜>get_weather\n```json\n{…}\n```` (the head is the call
 *                    type; the name is the next line, the arguments sit in a code fence)
 */
import type { CallScanner } from '../call-driver';
import { JsonStreamer } from '../json/json-streamer';
import { partialMarkerLength, skipWs } from '../markers';

export interface SeparatedCallFormat {
  separator: string;
  /** Markers between head and separator whose text is skipped (Mistral's `[CALL_ID]`). */
  skipFrom?: string;
  /** The tool name from the head, or undefined when the head is not a name (→ not a call). */
  nameOf(head: string): string | undefined;
  /** DeepSeek V3: when the head equals this, the name is the line after the separator. */
  typeHead?: string;
}

const enum S {
  Head,
  SkipId,
  NameLine,
  Fence,
  Args,
}

const FENCES = ['```json', '```'];
const NAME = /^[A-Za-z_][\w.-]*$/;

export function plainName(head: string): string | undefined {
  const name = head.trim();
  return NAME.test(name) ? name : undefined;
}

export class SeparatedCallScanner implements CallScanner {
  private state = S.Head;
  private head = '';
  private readonly json = new JsonStreamer('{');
  private released = false;
  private bad = false;
  name: string | undefined;

  private readonly sepMarkers: readonly string[];
  private readonly headMarkers: readonly string[];

  constructor(private readonly format: SeparatedCallFormat) {
    this.sepMarkers = [format.separator];
    this.headMarkers = format.skipFrom ? [format.separator, format.skipFrom] : this.sepMarkers;
  }

  get done(): boolean {
    return this.json.done && !this.bad;
  }

  get failed(): boolean {
    return this.bad || this.json.failed;
  }

  drainArgs(): string {
    if (this.bad) return '';
    const out = this.json.drain();
    if (out !== '') this.released = true;
    return out;
  }

  repair(): string {
    if (this.done) return '';
    return this.released ? this.json.repair() : '{}';
  }

  feed(s: string, i: number): number {
    const f = this.format;
    while (i < s.length && !this.failed && !this.done) {
      switch (this.state) {
        case S.Head:
        case S.SkipId: {
          const sep = s.indexOf(f.separator, i);
          const skip = f.skipFrom && this.state === S.Head ? s.indexOf(f.skipFrom, i) : -1;
          if (skip !== -1 && (sep === -1 || skip < sep)) {
            this.head += s.slice(i, skip);
            i = skip + (f.skipFrom as string).length;
            this.state = S.SkipId;
            continue;
          }
          if (sep === -1) {
            const markers = f.skipFrom && this.state === S.Head ? this.headMarkers : this.sepMarkers;
            const end = s.length - partialMarkerLength(s, i, markers);
            if (this.state === S.Head) this.head += s.slice(i, end);
            if (this.head.length > 256) this.bad = true; // no name is this long: not a call
            return end;
          }
          if (this.state === S.Head) this.head += s.slice(i, sep);
          i = sep + f.separator.length;
          if (f.typeHead !== undefined && this.head.trim() === f.typeHead) {
            this.head = '';
            this.state = S.NameLine;
            continue;
          }
          this.name = f.nameOf(this.head);
          if (this.name === undefined) this.bad = true;
          this.state = S.Args;
          continue;
        }
        case S.NameLine: {
          const nl = s.indexOf('\n', i);
          if (nl === -1) {
            this.head += s.slice(i);
            if (this.head.length > 256) this.bad = true;
            return s.length;
          }
          this.head += s.slice(i, nl);
          i = nl + 1;
          this.name = f.nameOf(this.head);
          if (this.name === undefined) this.bad = true;
          this.state = S.Fence;
          continue;
        }
        case S.Fence: {
          const at = skipWs(s, i);
          if (at === s.length) return at;
          const rest = s.slice(at, at + 7);
          if (rest.length < 7 && at + rest.length === s.length && FENCES[0].startsWith(rest)) return at; // maybe ```json
          const fence = FENCES.find((x) => s.startsWith(x, at));
          if (fence) {
            i = at + fence.length;
            this.state = S.Args;
            continue;
          }
          i = at;
          this.state = S.Args;
          continue;
        }
        case S.Args:
          i = this.json.feed(s, i);
          if (this.json.firstChar !== '' && this.json.firstChar !== '{') this.bad = true;
          continue;
      }
    }
    return i;
  }
}
