import { describe, expect, it } from 'vitest';
import { VirtualScheduler } from '@drover/runtime';
import { CircuitBreaker } from './circuit-breaker';

describe('CircuitBreaker', () => {
  const make = () => {
    const clock = new VirtualScheduler();
    const changes: string[] = [];
    const cb = new CircuitBreaker(clock, { failureThreshold: 3, cooldownMs: 1000, halfOpenMaxProbes: 1, successThreshold: 2 }, (s) => changes.push(s));
    return { clock, cb, changes };
  };

  it('opens after N consecutive failures, and a success resets the count', () => {
    const { cb } = make();
    cb.onFailure();
    cb.onFailure();
    cb.onSuccess();
    cb.onFailure();
    cb.onFailure();
    expect(cb.state).toBe('closed');
    cb.onFailure();
    expect(cb.state).toBe('open');
    expect(cb.canPass()).toBe(false);
  });

  it('half-opens after the cool-down, admits one probe, closes after M successes', () => {
    const { cb, clock, changes } = make();
    for (let i = 0; i < 3; i++) cb.onFailure();
    clock.advance(999);
    expect(cb.state).toBe('open');
    clock.advance(1);
    expect(cb.state).toBe('half_open');
    expect(cb.canPass()).toBe(true);
    cb.onSend();
    expect(cb.canPass()).toBe(false);
    cb.onSuccess();
    expect(cb.state).toBe('half_open');
    cb.onSend();
    cb.onSuccess();
    expect(cb.state).toBe('closed');
    expect(changes).toEqual(['open', 'half_open', 'closed']);
  });

  it('re-opens on a failed probe and waits a full cool-down again', () => {
    const { cb, clock } = make();
    for (let i = 0; i < 3; i++) cb.onFailure();
    clock.advance(1000);
    cb.onSend();
    cb.onFailure();
    expect(cb.state).toBe('open');
    clock.advance(500);
    expect(cb.canPass()).toBe(false);
    clock.advance(500);
    expect(cb.canPass()).toBe(true);
  });
});
