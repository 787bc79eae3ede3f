import { describe, expect, it } from 'vitest';
import { HttpUpstreamError, parseRetryAfter } from '../workers/http-upstream-error';
import { eventData, inspectEvent, SseFramer, type UpstreamOutcome } from './sse-framer';

describe('SSE framing of upstream streams', () => {
  it('yields whole events only, however the bytes are split, keeping their text', () => {
    const stream = 'data: {"a":1}\n\ndata: {"b":2}\r\n\r\n: comment\n\ndata: [DONE]\n\n';
    for (let cut = 1; cut < stream.length; cut++) {
      const f = new SseFramer();
      const events = [...f.push(stream.slice(0, cut)), ...f.push(stream.slice(cut))];
      expect(events.join(''), `cut at ${cut}`).toBe(stream);
      expect(events).toHaveLength(4);
      expect(f.rest()).toBe('');
    }
  });

  it('keeps an unterminated tail for the end of the stream', () => {
    const f = new SseFramer();
    expect(f.push('data: {"x":1}\n\ndata: part')).toEqual(['data: {"x":1}\n\n']);
    expect(f.rest()).toBe('data: part');
  });

  it('reads data lines, usage, finish reasons and [DONE]', () => {
    expect(eventData('event: x\ndata: one\ndata: two\n\n')).toBe('one\ntwo');
    expect(eventData(': keep-alive\n\n')).toBeUndefined();
    const seen: UpstreamOutcome = { sawDone: false };
    inspectEvent('data: {"choices":[{"finish_reason":"length"}]}\n\n', seen);
    inspectEvent('data: {"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,"prompt_tokens_details":{"cached_tokens":3}}}\n\n', seen);
    inspectEvent('data: [DONE]\n\n', seen);
    expect(seen).toEqual({ sawDone: true, finishReason: 'length', usage: { promptTokens: 5, completionTokens: 2, cachedTokens: 3 } });
  });

  it('rewrites the model name only when asked, and leaves non-JSON alone', () => {
    const seen: UpstreamOutcome = { sawDone: false };
    const event = 'data: {"model":"upstream","choices":[]}\n\n';
    expect(inspectEvent(event, seen)).toBe(event);
    expect(JSON.parse(eventData(inspectEvent(event, seen, 'alias'))!).model).toBe('alias');
    expect(inspectEvent('data: not json\n\n', seen, 'alias')).toBe('data: not json\n\n');
  });
});

describe('HTTP upstream failures', () => {
  it('retries 5xx, 429, connect errors, timeouts and broken streams, not other 4xx', () => {
    expect(new HttpUpstreamError('status', 'x', 503).retryable).toBe(true);
    expect(new HttpUpstreamError('status', 'x', 500).retryable).toBe(true);
    expect(new HttpUpstreamError('status', 'x', 429).retryable).toBe(true);
    expect(new HttpUpstreamError('connect', 'x').retryable).toBe(true);
    expect(new HttpUpstreamError('timeout', 'x').retryable).toBe(true);
    expect(new HttpUpstreamError('broken', 'x').retryable).toBe(true);
    expect(new HttpUpstreamError('status', 'x', 400).retryable).toBe(false);
    expect(new HttpUpstreamError('status', 'x', 404).retryable).toBe(false);
    expect(new HttpUpstreamError('status', 'x', 429).grpcEquivalent).toBe('RESOURCE_EXHAUSTED');
    expect(new HttpUpstreamError('connect', 'x').grpcEquivalent).toBe('UNAVAILABLE');
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('2', 0)).toBe(2000);
    expect(parseRetryAfter('0.5', 0)).toBe(500);
    const now = Date.parse('2024-01-01T00:00:00Z');
    expect(parseRetryAfter('Mon, 01 Jan 2024 00:00:03 GMT', now)).toBe(3000);
    expect(parseRetryAfter('garbage', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});
