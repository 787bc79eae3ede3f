/** Test helpers: drive a parser over pieces of a scripted output and fold the result. */
import { SeededRng } from '@drover/runtime';
import { collectToolCalls } from '../accumulate';
import { createOutputParser, type OutputParserOptions } from '../output-parser';
import type { OutputParser, ToolCall, ToolCallDelta } from '../types';

export interface Folded {
  reasoning: string;
  content: string;
  calls: ToolCall[];
  finishReason: string | null;
  malformed: number;
}

export function fold(parser: OutputParser, pieces: readonly string[], seen?: (piece: string, released: string) => void): Folded {
  let reasoning = '';
  let content = '';
  const deltas: ToolCallDelta[] = [];
  for (const p of pieces) {
    const out = parser.push(p);
    reasoning += out.reasoning;
    content += out.content;
    deltas.push(...out.calls);
    seen?.(p, out.content);
  }
  const end = parser.flush();
  reasoning += end.reasoning;
  content += end.content;
  deltas.push(...end.calls);
  checkDeltaOrder(deltas);
  return { reasoning, content, calls: collectToolCalls(deltas), finishReason: end.finishReason, malformed: end.malformed };
}

/** Every call's first delta carries id and name; later ones only arguments; indices ascend. */
function checkDeltaOrder(deltas: readonly ToolCallDelta[]): void {
  const started = new Set<number>();
  for (const d of deltas) {
    if (!started.has(d.index)) {
      if (d.id === undefined || d.name === undefined) throw new Error(`call ${d.index} started without id/name`);
      if (d.index !== started.size) throw new Error(`call index ${d.index} out of order`);
      started.add(d.index);
    } else if (d.id !== undefined || d.name !== undefined) {
      throw new Error(`call ${d.index} sent id/name twice`);
    }
  }
}

/** Ids are random: compare calls by name and arguments. */
export function shape(f: Folded): { reasoning: string; content: string; calls: Array<{ name: string; arguments: unknown }>; finishReason: string | null; malformed: number } {
  return {
    reasoning: f.reasoning,
    content: f.content,
    calls: f.calls.map((c) => ({ name: c.function.name, arguments: JSON.parse(c.function.arguments) as unknown })),
    finishReason: f.finishReason,
    malformed: f.malformed,
  };
}

export function parseWhole(opts: Omit<OutputParserOptions, 'rng'>, text: string): Folded {
  return fold(createOutputParser({ ...opts, rng: new SeededRng('t') }), [text]);
}

/** The output split in two at every position, and one character at a time. */
export function everySplit(text: string): string[][] {
  const splits: string[][] = [];
  for (let i = 0; i <= text.length; i++) splits.push([text.slice(0, i), text.slice(i)]);
  splits.push(Array.from(text.split('')));
  return splits;
}

/** Asserts that every split gives the same folded result as the whole text, returns it. */
export function parseEverySplit(opts: Omit<OutputParserOptions, 'rng'>, text: string): ReturnType<typeof shape> {
  const whole = parseWhole(opts, text);
  const expected = JSON.stringify(shape(whole));
  for (const pieces of everySplit(text)) {
    const got = JSON.stringify(shape(fold(createOutputParser({ ...opts, rng: new SeededRng('t') }), pieces)));
    if (got !== expected) throw new Error(`split ${JSON.stringify(pieces.length > 2 ? 'per char' : pieces)} gave\n${got}\nexpected\n${expected}`);
  }
  return shape(whole);
}
