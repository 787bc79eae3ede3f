import { describe, expect, it } from 'vitest';
import { chatChunk, chatContentChunks } from './openai-format';

describe('chatContentChunks', () => {
  it('writes the same bytes as serializing a whole content chunk, for any text', () => {
    const texts = ['', 'plain', 'quotes " and \\ backslashes', 'new\nline\ttab', 'ünïcödé 中文 🚀', '\u0000\u001f control', '</script>'];
    const build = chatContentChunks('chatcmpl-x"y', 1700000000, 'qwen3-"mock"');
    for (const t of texts) {
      expect(build(t)).toBe(JSON.stringify(chatChunk('chatcmpl-x"y', 1700000000, 'qwen3-"mock"', { content: t }, null)));
    }
  });
});
