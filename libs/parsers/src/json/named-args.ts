/** A call whose name is known up front and whose arguments are one JSON object (harmony, named tool_choice). */
import type { CallScanner } from '../call-driver';
import { JsonStreamer } from './json-streamer';

export class ArgsOnlyScanner implements CallScanner {
  private readonly json = new JsonStreamer('{');
  private released = false;
  private notObject = false;

  constructor(readonly name: string) {}

  get done(): boolean {
    return this.json.done && !this.notObject;
  }

  get failed(): boolean {
    return this.json.failed || this.notObject;
  }

  feed(s: string, i: number): number {
    if (this.failed) return i;
    const next = this.json.feed(s, i);
    if (this.json.firstChar !== '' && this.json.firstChar !== '{') this.notObject = true;
    return next;
  }

  drainArgs(): string {
    if (this.notObject) return '';
    const out = this.json.drain();
    if (out !== '') this.released = true;
    return out;
  }

  repair(): string {
    if (this.done) return '';
    return this.released ? this.json.repair() : '{}';
  }
}
