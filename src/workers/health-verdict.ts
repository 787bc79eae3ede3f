import type { WorkerHealth } from './worker-record';

export interface HealthThresholds {
  /** Consecutive unreachable checks before a worker is `failed` (it may then be removed). */
  failureThreshold: number;
  /** Consecutive healthy checks before a worker that is not ready becomes `ready` again. */
  successThreshold: number;
}

export interface HealthCounters {
  health: WorkerHealth;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
}

/**
 * One health-check result → the worker's next state. `healthy` is the worker's own answer;
 * `unreachable` means no answer at all (connect error, timeout). A worker that answers "not
 * serving" is alive but not ready (e.g. still loading); only an unreachable one counts towards
 * `failed`. A ready worker stays ready on success; any other needs `successThreshold` in a row.
 */
export function nextHealth(s: HealthCounters, result: 'healthy' | 'unhealthy' | 'unreachable', t: HealthThresholds): HealthCounters {
  if (result === 'healthy') {
    const successes = s.consecutiveSuccesses + 1;
    const ready = s.health === 'ready' || successes >= t.successThreshold;
    return { health: ready ? 'ready' : 'not_ready', consecutiveFailures: 0, consecutiveSuccesses: successes };
  }
  const failures = s.consecutiveFailures + 1;
  const failed = result === 'unreachable' && failures >= t.failureThreshold;
  return { health: failed ? 'failed' : 'not_ready', consecutiveFailures: failures, consecutiveSuccesses: 0 };
}
