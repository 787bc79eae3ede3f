import type { WorkerHealth } from './worker-record';

export interface HealthThresholds {
  /** Consecutive unreachable checks before a worker is `failed` (it may then be removed). */
  failureThreshold: number;
  /** Consecutive healthy checks before a worker that is not ready becomes `ready` again. */
  successThreshold: number;
  /**
   * Consecutive timed-out checks before a `ready` worker leaves ready (default 2). A check that
   * merely ran out of time on a busy engine says little: one slow answer must not take a serving
   * worker out of routing (requests that really fail open its circuit meanwhile). A refused
   * connection or a "not serving" answer still counts at once.
   */
  timeoutsBeforeUnready?: number;
}

export interface HealthCounters {
  health: WorkerHealth;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
}

/**
 * One health-check result → the worker's next state. `healthy` is the worker's own answer;
 * `unreachable` means no answer at all (connect error), `timeout` no answer in time. A worker that answers "not
 * serving" is alive but not ready (e.g. still loading); only an unreachable one counts towards
 * `failed`. A ready worker stays ready on success; any other needs `successThreshold` in a row.
 */
export type HealthResult = 'healthy' | 'unhealthy' | 'unreachable' | 'timeout';

export function nextHealth(s: HealthCounters, result: HealthResult, t: HealthThresholds): HealthCounters {
  if (result === 'healthy') {
    const successes = s.consecutiveSuccesses + 1;
    const ready = s.health === 'ready' || successes >= t.successThreshold;
    return { health: ready ? 'ready' : 'not_ready', consecutiveFailures: 0, consecutiveSuccesses: successes };
  }
  const failures = s.consecutiveFailures + 1;
  const failed = result !== 'unhealthy' && failures >= t.failureThreshold;
  if (failed) return { health: 'failed', consecutiveFailures: failures, consecutiveSuccesses: 0 };
  const graceful = result === 'timeout' && s.health === 'ready' && failures < (t.timeoutsBeforeUnready ?? 2);
  return { health: graceful ? 'ready' : 'not_ready', consecutiveFailures: failures, consecutiveSuccesses: 0 };
}
