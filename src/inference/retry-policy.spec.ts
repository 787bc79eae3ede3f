import { describe, expect, it } from 'vitest';
import { WorkerRpcError } from '@drover/worker-proto';
import { countsAgainstWorker, FirstTokenTimeout, isRetryable } from './retry-policy';

describe('retry policy', () => {
  it('retries INTERNAL once (it may be the engine), never twice (then it is the request), and never counts it against a circuit', () => {
    const internal = new WorkerRpcError(13, 'boom');
    expect(isRetryable(internal, 1)).toBe(true);
    expect(isRetryable(internal, 2)).toBe(false);
    expect(countsAgainstWorker(internal)).toBe(false);
  });

  it('keeps retrying unavailability, engine aborts and timeouts, and counts them against the worker', () => {
    for (const err of [new WorkerRpcError(14, 'down'), new WorkerRpcError(10, 'engine aborted'), new FirstTokenTimeout(5)]) {
      expect(isRetryable(err, 3)).toBe(true);
      expect(countsAgainstWorker(err)).toBe(true);
    }
    expect(isRetryable(new WorkerRpcError(3, 'bad'), 1)).toBe(false);
    expect(countsAgainstWorker(new WorkerRpcError(3, 'bad'))).toBe(false);
  });
});
