/**
 * Hermes / Qwen: `<tool_call>\n{"name": "f", "arguments": {...}}\n</tool_call>`, possibly several
 * in a row, anywhere in the output (only the exact tag starts a call).
 */
import { CallObjectScanner } from '../json/call-object';
import type { ToolParserOptions } from './base';
import { BlockToolParser } from './block';

export function hermesParser(opts: ToolParserOptions): BlockToolParser {
  return new BlockToolParser(
    {
      open: '<tool_call>',
      close: '</tool_call>',
      ignore: [],
      body: () => new CallObjectScanner({ argKeys: ['arguments', 'parameters'] }),
    },
    opts,
  );
}
