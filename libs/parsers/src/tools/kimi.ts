/**
 * Kimi K2: `<|tool_calls_section_begin|><|tool_call_begin|>functions.NAME:IDX<|tool_call_argument_begin|>{…}<|tool_call_end|><|tool_calls_section_end|>`.
 * The model's own call id (`functions.NAME:IDX`) gives the name; ids sent to clients are ours.
 */
import type { ToolParserOptions } from './base';
import { BlockToolParser } from './block';
import { SeparatedCallScanner } from './separated-call';

const KIMI_ID = /^\s*(?:functions\.)?([A-Za-z_][\w.-]*?)(?::\d+)?\s*$/;

export function kimiK2Parser(opts: ToolParserOptions): BlockToolParser {
  return new BlockToolParser(
    {
      open: '<|tool_call_begin|>',
      close: '<|tool_call_end|>',
      ignore: ['<|tool_calls_section_begin|>', '<|tool_calls_section_end|>'],
      body: () =>
        new SeparatedCallScanner({
          separator: '<|tool_call_argument_begin|>',
          nameOf: (head) => KIMI_ID.exec(head)?.[1],
        }),
    },
    opts,
  );
}
