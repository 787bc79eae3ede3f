import type { ToolCallParser, ToolChunk, ToolFlush } from '../types';

/** No tool parsing (tool_choice none, or a model without a known format): all text is text. */
export class PassThroughToolParser implements ToolCallParser {
  push(text: string): ToolChunk {
    return { text, calls: [] };
  }

  flush(): ToolFlush {
    return { text: '', calls: [], finishReason: null, malformed: 0, unknownTools: 0 };
  }
}
