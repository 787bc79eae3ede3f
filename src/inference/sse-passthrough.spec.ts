import { describe, expect, it } from 'vitest';
import { lastEventEnd, scanEvents } from './sse-passthrough';

const b = (s: string) => Buffer.from(s);

describe('lastEventEnd', () => {
  it('finds the end of the last whole event, LF or CRLF framed', () => {
    expect(lastEventEnd(b('data: a\n\ndata: b\n\n'))).toBe(18);
    expect(lastEventEnd(b('data: a\n\ndata: b'))).toBe(9);
    expect(lastEventEnd(b('data: a\r\n\r\ndata: b'))).toBe(11);
    expect(lastEventEnd(b('data: a\r\n\r\ndata: b\n\n'))).toBe(20);
  });

  it('is -1 while no event is complete', () => {
    expect(lastEventEnd(b('data: {"choices":[{"delta":'))).toBe(-1);
    expect(lastEventEnd(b('data: a\n'))).toBe(-1);
    expect(lastEventEnd(new Uint8Array(0))).toBe(-1);
  });
});

describe('scanEvents', () => {
  it('ignores the null usage and finish reason every chunk carries', () => {
    const chunk = b('data: {"choices":[{"delta":{"content":"x"},"finish_reason":null}],"usage":null}\n\n');
    expect(scanEvents(chunk)).toEqual({ done: false, outcome: false });
    expect(scanEvents(b('data: {"choices":[{"delta":{},"finish_reason": null}]}\n\n')).outcome).toBe(false);
  });

  it('flags a finish reason, usage (compact or spaced JSON) and the end marker', () => {
    expect(scanEvents(b('data: {"choices":[{"delta":{},"finish_reason":"stop"}]}\n\n')).outcome).toBe(true);
    expect(scanEvents(b('data: {"choices": [], "usage": {"prompt_tokens": 3}}\n\n')).outcome).toBe(true);
    expect(scanEvents(b('data: {"finish_reason":null}\n\ndata: {"finish_reason":"length"}\n\n')).outcome).toBe(true);
    expect(scanEvents(b('data: [DONE]\n\n')).done).toBe(true);
  });
});
