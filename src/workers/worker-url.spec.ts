import { describe, expect, it } from 'vitest';
import { DroverError } from '@drover/runtime';
import { normaliseWorkerUrl, workerKindOf } from './worker-url';

describe('worker URLs', () => {
  it.each([
    ['grpc://127.0.0.1:50051', 'grpc://127.0.0.1:50051', 'grpc'],
    ['grpcs://engine.internal:443', 'grpcs://engine.internal:443', 'grpc'],
    ['http://127.0.0.1:8000', 'http://127.0.0.1:8000', 'http'],
    ['http://127.0.0.1:8000/', 'http://127.0.0.1:8000', 'http'],
    ['  https://vllm.example.com:8443  ', 'https://vllm.example.com:8443', 'http'],
    // The scheme's default port is allowed for HTTP(S) (URL drops it when normalising).
    ['https://vllm.example.com', 'https://vllm.example.com', 'http'],
    ['https://vllm.example.com:443', 'https://vllm.example.com', 'http'],
    ['HTTP://Host.Example:80', 'http://host.example', 'http'],
    ['http://[::1]:8000', 'http://[::1]:8000', 'http'],
  ])('accepts %s', (raw, normalised, kind) => {
    expect(normaliseWorkerUrl(raw)).toBe(normalised);
    expect(workerKindOf(raw)).toBe(kind);
  });

  it.each([
    ['', "'url' must be a non-empty string"],
    ['not a url', 'is not a valid URL'],
    ['http://', 'is not a valid URL'],
    ['ftp://x:1', "unsupported worker URL scheme 'ftp:'"],
    ['grpc://host-without-port', 'needs a host and a port'],
    ['http://127.0.0.1:8000/v1', 'must not have a path'],
    ['http://127.0.0.1:8000?x=1', 'must not have a path'],
    ['http://user:secret@127.0.0.1:8000', 'credentials'],
  ])('rejects %j with a 400 naming url', (raw, message) => {
    let err: unknown;
    try {
      normaliseWorkerUrl(raw);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DroverError);
    expect((err as DroverError).code).toBe('invalid_request');
    expect((err as DroverError).param).toBe('url');
    expect((err as DroverError).message).toContain(message);
  });

  it('rejects non-strings', () => {
    expect(() => normaliseWorkerUrl(42)).toThrow(DroverError);
    expect(() => normaliseWorkerUrl(undefined)).toThrow(DroverError);
  });
});
