import type { OutputChunk, OutputParser } from '@drover/parsers';

/**
 * The parsed output as an ordered list of blocks (Anthropic content blocks, Responses output
 * items): reasoning, text and tool calls, each opened, filled by deltas and closed in output
 * order. The chat API sends parallel deltas; these two APIs send one block at a time, so a change
 * of kind closes the open block and opens the next.
 */
export type Block =
  | { kind: 'reasoning'; text: string }
  | { kind: 'text'; text: string }
  | { kind: 'call'; id: string; name: string; arguments: string };

export interface BlockEvents {
  open(block: Block, index: number): void;
  /** A fragment: reasoning or text, or a call's argument JSON. */
  delta(block: Block, index: number, fragment: string): void;
  close(block: Block, index: number): void;
}

const NONE: BlockEvents = { open() {}, delta() {}, close() {} };

export class OutputBlocks {
  readonly blocks: Block[] = [];
  private current: Block | undefined;
  /** Call index (the parser's) → its block. */
  private readonly calls = new Map<number, Block & { kind: 'call' }>();
  /** Whether any tool call was parsed (stop_reason tool_use / finish tool_calls). */
  called = false;

  constructor(private readonly events: BlockEvents = NONE) {}

  push(out: OutputChunk): void {
    if (out.reasoning) this.append('reasoning', out.reasoning);
    if (out.content) this.append('text', out.content);
    for (const d of out.calls) {
      let call = this.calls.get(d.index);
      if (!call) {
        call = { kind: 'call', id: d.id ?? '', name: d.name ?? '', arguments: '' };
        this.calls.set(d.index, call);
        this.called = true;
        this.start(call);
      }
      if (d.argumentsDelta) {
        call.arguments += d.argumentsDelta;
        this.events.delta(call, this.blocks.indexOf(call), d.argumentsDelta);
      }
    }
  }

  /** Opens an empty text block if there is no block at all (an empty answer is one empty message). */
  ensureOne(): void {
    if (this.blocks.length === 0) this.start({ kind: 'text', text: '' });
  }

  /** Closes the last block. */
  finish(): void {
    if (this.current) this.events.close(this.current, this.blocks.length - 1);
    this.current = undefined;
  }

  private append(kind: 'reasoning' | 'text', fragment: string): void {
    let block: Block;
    if (this.current && this.current.kind === kind) block = this.current;
    else {
      block = { kind, text: '' } as Block;
      this.start(block);
    }
    (block as { text: string }).text += fragment;
    this.events.delta(block, this.blocks.length - 1, fragment);
  }

  private start(block: Block): void {
    this.finish();
    this.blocks.push(block);
    this.current = block;
    this.events.open(block, this.blocks.length - 1);
  }
}

/** Text when there is no parser: one text block, pre-parsed. */
export const PLAIN_TEXT: OutputParser = {
  push: (text) => ({ reasoning: '', content: text, calls: [] }),
  flush: () => ({ reasoning: '', content: '', calls: [], finishReason: null, malformed: 0, unknownTools: 0 }),
};
