/** Folds streamed call deltas into the non-streaming `tool_calls` array. */
import type { ToolCall, ToolCallDelta } from './types';

export class ToolCallAccumulator {
  private readonly calls: ToolCall[] = [];

  add(deltas: readonly ToolCallDelta[]): void {
    for (const d of deltas) {
      let call = this.calls[d.index];
      if (!call) {
        call = { id: d.id ?? '', type: 'function', function: { name: d.name ?? '', arguments: '' } };
        this.calls[d.index] = call;
      }
      if (d.id !== undefined) call.id = d.id;
      if (d.name !== undefined) call.function.name = d.name;
      if (d.argumentsDelta !== undefined) call.function.arguments += d.argumentsDelta;
    }
  }

  /** The calls so far, in index order. */
  result(): ToolCall[] {
    return this.calls.filter((c) => c !== undefined);
  }
}

export function collectToolCalls(deltas: readonly ToolCallDelta[]): ToolCall[] {
  const acc = new ToolCallAccumulator();
  acc.add(deltas);
  return acc.result();
}
