/**
 * DeepSeek V3 / R1-0528:
 * `<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME\n```json\n{…}\n```<｜tool▁call▁end｜>…<｜tool▁calls▁end｜>`
 * and V3.1's shorter `<｜tool▁call▁begin｜>NAME<｜tool▁sep｜>{…}<｜tool▁call▁end｜>`.
 */
import type { ToolParserOptions } from './base';
import { BlockToolParser } from './block';
import { plainName, SeparatedCallScanner } from './separated-call';

export function deepseekV3Parser(opts: ToolParserOptions): BlockToolParser {
  return new BlockToolParser(
    {
      open: '<｜tool▁call▁begin｜>',
      close: '<｜tool▁call▁end｜>',
      ignore: ['<｜tool▁calls▁begin｜>', '<｜tool▁calls▁end｜>'],
      trailer: '```',
      body: () => new SeparatedCallScanner({ separator: '<｜tool▁sep｜>', typeHead: 'function', nameOf: plainName }),
    },
    opts,
  );
}
