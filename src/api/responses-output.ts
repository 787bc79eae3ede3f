import type { Block } from './output-blocks';

const PREFIX: Record<Block['kind'], string> = { text: 'msg', reasoning: 'rs', call: 'fc' };

/** Parsed blocks as Responses output items: `message`, `reasoning` and `function_call`. */
export class OutputItems {
  /** `base`: the response id's random part; item ids are the kind's prefix, base and position. */
  constructor(private readonly base: string) {}

  id(b: Block, index: number): string {
    return `${PREFIX[b.kind]}_${this.base}${index > 0 ? `_${index}` : ''}`;
  }

  /**
   * One block as an item. `opening`: the item as `output_item.added` announces it (no text yet).
   * Logprobs go with the message text.
   */
  item(b: Block, index: number, status: string, logprobs: unknown[], opening = false): Record<string, unknown> {
    const id = this.id(b, index);
    if (b.kind === 'text') {
      return { id, type: 'message', status, role: 'assistant', content: opening ? [] : [{ type: 'output_text', text: b.text, annotations: [], logprobs }] };
    }
    if (b.kind === 'reasoning') return { id, type: 'reasoning', status, summary: [], content: opening ? [] : [{ type: 'reasoning_text', text: b.text }] };
    return { id, type: 'function_call', status, call_id: b.id, name: b.name, arguments: opening ? '' : b.arguments };
  }

  /** The response's output: every block's item (an empty message when the model said nothing). */
  output(blocks: readonly Block[], status: string, logprobs: unknown[]): Record<string, unknown>[] {
    const all: readonly Block[] = blocks.length > 0 ? blocks : [{ kind: 'text', text: '' }];
    return all.map((b, i) => this.item(b, i, status, logprobs));
  }
}
