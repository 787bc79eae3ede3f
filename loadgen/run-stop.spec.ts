import { describe, expect, it } from 'vitest';
import { RunStop } from './run-stop';

describe('RunStop', () => {
  it('aborts every pending waiter once, each through its own signal', async () => {
    const stop = new RunStop();
    const signals: AbortSignal[] = [];
    const waits = Array.from({ length: 50 }, () =>
      stop.with((signal) => {
        signals.push(signal);
        return new Promise<string>((resolve) => signal.addEventListener('abort', () => resolve('aborted'), { once: true }));
      }),
    );
    expect(new Set(signals).size).toBe(50);
    expect(stop.pending).toBe(50);
    stop.stop();
    expect(await Promise.all(waits)).toEqual(Array(50).fill('aborted'));
    expect(stop.pending).toBe(0);
    expect(stop.stopped).toBe(true);
  });

  it('forgets settled waiters and hands out aborted signals after the stop', async () => {
    const stop = new RunStop();
    for (let i = 0; i < 20; i++) await stop.with(async () => i);
    expect(stop.pending).toBe(0);
    await expect(stop.with(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(stop.pending).toBe(0);
    stop.stop();
    expect(await stop.with(async (signal) => signal.aborted)).toBe(true);
    expect(stop.pending).toBe(0);
  });
});
