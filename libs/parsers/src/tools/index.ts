import type { ConstrainedToolKind, ToolCallParser, ToolParserKind } from '../types';
import type { ToolParserOptions } from './base';
import { hermesParser } from './hermes';

export type { ToolParserOptions } from './base';

export const TOOL_PARSER_KINDS: readonly ToolParserKind[] = ['hermes', 'llama3_json', 'mistral', 'deepseek_v3', 'pythonic', 'harmony', 'kimi_k2'];

export interface CreateToolParserOptions extends ToolParserOptions {
  /** For kind 'named': the function whose arguments the whole output is. */
  name?: string;
}

/** A streaming tool-call parser for one response. */
export function createToolCallParser(kind: ToolParserKind | ConstrainedToolKind, opts: CreateToolParserOptions): ToolCallParser {
  switch (kind) {
    case 'hermes':
      return hermesParser(opts);
    default:
      throw new Error(`tool-call parser '${String(kind)}' not implemented yet`);
  }
}
