import { describe, expect, it } from 'vitest';
import { nextHealth, type HealthCounters, type HealthResult } from './health-verdict';

const start: HealthCounters = { health: 'pending', consecutiveFailures: 0, consecutiveSuccesses: 0 };
const run = (results: HealthResult[], successThreshold = 1, failureThreshold = 3) =>
  results.reduce<HealthCounters[]>((acc, r) => [...acc, nextHealth(acc.at(-1) ?? start, r, { successThreshold, failureThreshold })], []).map((s) => s.health);

describe('worker health verdicts', () => {
  it.each([
    { results: ['healthy'], success: 1, expected: ['ready'] },
    { results: ['healthy', 'healthy', 'healthy'], success: 2, expected: ['not_ready', 'ready', 'ready'] },
    { results: ['unhealthy', 'unhealthy', 'unhealthy', 'unhealthy'], success: 1, expected: ['not_ready', 'not_ready', 'not_ready', 'not_ready'] },
    { results: ['healthy', 'unreachable', 'unreachable', 'unreachable'], success: 1, expected: ['ready', 'not_ready', 'not_ready', 'failed'] },
    { results: ['unreachable', 'unreachable', 'healthy', 'unreachable', 'unreachable'], success: 1, expected: ['not_ready', 'not_ready', 'ready', 'not_ready', 'not_ready'] },
    { results: ['healthy', 'unhealthy', 'healthy', 'healthy'], success: 2, expected: ['not_ready', 'not_ready', 'not_ready', 'ready'] },
    { results: ['unreachable', 'unreachable', 'unreachable', 'healthy', 'healthy'], success: 2, expected: ['not_ready', 'not_ready', 'failed', 'not_ready', 'ready'] },
    // One timed-out check on a serving worker (a busy engine) keeps it ready; a second in a row does not.
    { results: ['healthy', 'timeout', 'healthy', 'timeout', 'timeout'], success: 1, expected: ['ready', 'ready', 'ready', 'ready', 'not_ready'] },
    // A refused connection or a "not serving" answer takes it out at once.
    { results: ['healthy', 'unreachable'], success: 1, expected: ['ready', 'not_ready'] },
    { results: ['healthy', 'unhealthy'], success: 1, expected: ['ready', 'not_ready'] },
    // Timeouts count towards failed like any missing answer; a worker never ready gets no grace.
    { results: ['timeout', 'timeout', 'timeout'], success: 1, expected: ['not_ready', 'not_ready', 'failed'] },
  ] as const)('$results with success threshold $success → $expected', ({ results, success, expected }) => {
    expect(run([...results], success)).toEqual(expected);
  });
});
