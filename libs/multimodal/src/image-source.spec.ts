import { describe, expect, it } from 'vitest';
import { decodeDataUrl } from './image-source';

describe('decodeDataUrl', () => {
  it('decodes base64 image data URLs, whitespace tolerated', () => {
    const r = decodeDataUrl('data:image/png;base64,aGVs\nbG8=', 100);
    expect(r.mime).toBe('image/png');
    expect(r.bytes.toString()).toBe('hello');
  });

  it('rejects non-data URLs, non-base64 payloads and oversized images with clear messages', () => {
    expect(() => decodeDataUrl('https://example.com/a.png', 100)).toThrow(/data: URL/);
    expect(() => decodeDataUrl('data:image/png,rawtext', 100)).toThrow(/base64/);
    expect(() => decodeDataUrl('data:image/png;base64,@@@@', 100)).toThrow(/not valid base64/);
    expect(() => decodeDataUrl('data:image/png;base64,', 100)).toThrow(/not valid base64/);
    expect(() => decodeDataUrl(`data:image/png;base64,${'A'.repeat(200)}`, 100)).toThrow(/100-byte limit/);
  });
});
