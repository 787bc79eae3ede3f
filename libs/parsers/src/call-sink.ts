/**
 * Where every tool-call parser puts its output: text, and call deltas with indices and ids.
 *
 * - Ids are `call_` + 24 hex digits from the injected Rng (deterministic in tests).
 * - `known(name)` says whether a name is among the request's tools (always true without a tool
 *   list). Formats delimited by special tokens keep calls to unknown names (the markers are
 *   unambiguous; the client answers with an error tool result as for any failing tool; counted in
 *   `unknown`); formats without special tokens (Llama 3 JSON, pythonic) use it to tell a call from
 *   prose that merely looks like one.
 * - Trailing whitespace is held until non-whitespace text follows; at the end it is dropped if a
 *   call was parsed (the newlines models put between and around calls are not content).
 */
import type { Rng } from '@drover/runtime';
import { isWs } from './markers';
import type { ToolCallDelta, ToolChunk } from './types';

export function newCallId(rng: Rng): string {
  let hex = '';
  for (let k = 0; k < 3; k++) hex += rng.uint32().toString(16).padStart(8, '0');
  return `call_${hex}`;
}

export class CallSink {
  private text = '';
  private pendingWs = '';
  private deltas: ToolCallDelta[] = [];
  private current = -1;
  /** Calls started so far (the next call's index). */
  count = 0;
  malformed = 0;
  /** Calls made to names the request did not offer. */
  unknown = 0;

  constructor(
    private readonly allowed: ReadonlySet<string> | null,
    private readonly rng: Rng,
  ) {}

  emitText(s: string): void {
    if (s === '') return;
    let end = s.length;
    while (end > 0 && isWs(s.charCodeAt(end - 1))) end--;
    if (end === 0) {
      this.pendingWs += s;
      return;
    }
    this.text += this.pendingWs + s.slice(0, end);
    this.pendingWs = s.slice(end);
  }

  known(name: string): boolean {
    return this.allowed === null || this.allowed.has(name);
  }

  /** Starts a call once its name is complete. */
  begin(name: string): void {
    if (!this.known(name)) this.unknown++;
    this.current = this.count++;
    this.deltas.push({ index: this.current, id: newCallId(this.rng), name });
  }

  args(fragment: string): void {
    if (fragment === '' || this.current < 0) return;
    const last = this.deltas[this.deltas.length - 1];
    if (last && last.index === this.current && last.id === undefined) {
      last.argumentsDelta = (last.argumentsDelta ?? '') + fragment;
    } else {
      this.deltas.push({ index: this.current, argumentsDelta: fragment });
    }
  }

  /** Output since the last take. */
  take(): ToolChunk {
    const out = { text: this.text, calls: this.deltas };
    this.text = '';
    this.deltas = [];
    return out;
  }

  /** End of stream: whitespace still held is content only when no call was made. */
  end(): void {
    if (this.count === 0) this.text += this.pendingWs;
    this.pendingWs = '';
  }
}
