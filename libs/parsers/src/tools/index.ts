import type { ConstrainedToolKind, ToolCallParser, ToolParserKind } from '../types';
import type { ToolParserOptions } from './base';
import { HarmonyToolParser } from '../harmony/harmony-tools';
import { JsonArrayToolParser, NamedToolParser } from './constrained';
import { deepseekV3Parser } from './deepseek';
import { hermesParser } from './hermes';
import { kimiK2Parser } from './kimi';
import { Llama3JsonParser } from './llama3';
import { MistralParser } from './mistral';
import { PythonicParser } from './pythonic';

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
    case 'llama3_json':
      return new Llama3JsonParser(opts);
    case 'mistral':
      return new MistralParser(opts);
    case 'deepseek_v3':
      return deepseekV3Parser(opts);
    case 'pythonic':
      return new PythonicParser(opts);
    case 'harmony':
      return new HarmonyToolParser(opts);
    case 'kimi_k2':
      return kimiK2Parser(opts);
    case 'json_array':
      return new JsonArrayToolParser(opts);
    case 'named':
      if (!opts.name) throw new Error("tool-call parser 'named' needs the function name");
      return new NamedToolParser({ ...opts, name: opts.name });
    default:
      throw new Error(`unknown tool-call parser '${String(kind)}'`);
  }
}
