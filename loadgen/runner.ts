import { poissonArrivals, type RateShape } from './arrivals';
import { send, type RequestResult } from './client';
import { HttpPool } from './http-pool';
import { Limiter } from './limiter';
import { RunStop } from './run-stop';
import type { Api } from './request-body';
import { forkSeed } from './rng';
import { SessionPool, type Spread } from './sessions';
import { round } from './stats';
import { workload, type WorkloadName } from './workloads';

export interface RunConfig {
  urls: string[];
  model: string;
  api: Api;
  stream: boolean;
  maxTokens: number;
  apiKey?: string;
  seed: number;
  timeoutMs: number;
  /** Open loop: Poisson arrivals at this rate. */
  rps?: number;
  /** Closed loop: this many requests always in flight. */
  concurrency?: number;
  durationMs?: number;
  requests?: number;
  /** Open loop: the rate ramps linearly from 0 over this long. */
  rampMs?: number;
  /** Open loop: `factor`× the rate from `atMs` for `durationMs`. */
  burst?: RateShape['burst'];
  workload: WorkloadName;
  /** Spread over URLs per request, or keep a conversation on one URL. */
  spread: Spread;
  /** Cap on requests (hence connections) in flight at once. */
  maxConnections: number;
  /** Hard stop for the whole run (default: see `hardDeadlineMs`). */
  deadlineMs?: number;
  onProgress?: (p: Progress) => void;
  progressIntervalMs?: number;
}

export interface Progress {
  elapsedMs: number;
  sent: number;
  ok: number;
  failed: number;
  inFlight: number;
  /** Completions per second over the last progress interval. */
  rate: number;
  /** Median TTFT of the requests completed in the last progress interval. */
  ttftP50: number | null;
}

export interface Sample extends RequestResult {
  url: string;
  conversation: string;
  /** ms since the run started when the request was due: its Poisson arrival (open loop) or its issue time. */
  dueMs: number;
  /** ms since the run started when it got a connection slot and went out (>= dueMs). */
  sentMs: number;
}

export interface RunResult {
  samples: Sample[];
  elapsedMs: number;
  /** Open loop: the scheduled arrivals per second over the duration; null in closed loop. */
  offeredRps: number | null;
  /** True when the hard deadline cut the run short (its in-flight requests count as `aborted`). */
  deadlineHit: boolean;
}

/** The run ends by itself: the duration (or an hour when only a count is given) plus one timeout and a margin. */
export function hardDeadlineMs(cfg: Pick<RunConfig, 'durationMs' | 'timeoutMs' | 'deadlineMs'>): number {
  return cfg.deadlineMs ?? (cfg.durationMs ?? 3_600_000) + cfg.timeoutMs + 5_000;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });

/** Runs the load and returns every sample (one per issued request, failures included). */
export async function runLoad(cfg: RunConfig): Promise<RunResult> {
  const t0 = performance.now();
  const now = () => performance.now() - t0;
  const pool = new HttpPool(cfg.maxConnections);
  const slots = new Limiter(cfg.maxConnections);
  const sessions = new SessionPool(workload(cfg.workload, cfg.seed), cfg.urls, cfg.spread);
  const stop = new RunStop();
  let deadlineHit = false;
  const deadline = setTimeout(() => {
    deadlineHit = true;
    stop.stop();
  }, hardDeadlineMs(cfg));
  const durationMs = cfg.durationMs ?? Number.POSITIVE_INFINITY;
  const budget = cfg.requests ?? Number.POSITIVE_INFINITY;
  const samples: Sample[] = [];
  const progress = new ProgressCounter();
  let issued = 0;
  const more = (at: number) => issued < budget && at < durationMs && !stop.stopped;

  const one = async (dueMs: number): Promise<void> => {
    issued++;
    const turn = sessions.nextTurn();
    await slots.acquire();
    const sentMs = now();
    progress.inFlight++;
    const spec = { url: turn.url, api: cfg.api, model: cfg.model, messages: turn.messages, stream: cfg.stream, maxTokens: cfg.maxTokens, apiKey: cfg.apiKey, timeoutMs: cfg.timeoutMs };
    const result = await stop.with((signal) => send(spec, pool, signal));
    progress.inFlight--;
    slots.release();
    samples.push({ ...result, url: turn.url, conversation: turn.conversation.id, dueMs, sentMs });
    progress.record(result);
    sessions.finished(turn, result.ok ? result.text : undefined);
  };

  const reporter = cfg.onProgress
    ? setInterval(() => cfg.onProgress!(progress.snapshot(now(), issued)), cfg.progressIntervalMs ?? 1000)
    : undefined;

  let offeredRps: number | null = null;
  try {
    if (cfg.rps !== undefined) {
      // Open loop: arrivals follow the schedule whatever the server does; a request that waits for
      // a slot keeps its scheduled time, so the wait shows up as lag instead of vanishing.
      const nextArrival = poissonArrivals({ rps: cfg.rps, rampMs: cfg.rampMs, burst: cfg.burst }, forkSeed(cfg.seed, 'arrivals'));
      const inFlight = new Set<Promise<void>>();
      let scheduled = 0;
      let lastDue = 0;
      for (let due = nextArrival(); more(due); due = nextArrival()) {
        lastDue = due;
        const wait = due - now();
        if (wait > 1) await stop.with((signal) => sleep(wait, signal));
        if (stop.stopped) break;
        scheduled++;
        const p = one(due).finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      await Promise.all(inFlight);
      const spanMs = cfg.durationMs ?? lastDue;
      offeredRps = spanMs > 0 ? round(scheduled / (spanMs / 1000)) : null;
    } else {
      await Promise.all(closedLoopWorkers(cfg).map(async ({ startMs, stopMs }) => {
        if (startMs > 0) await stop.with((signal) => sleep(startMs - now(), signal));
        while (more(now()) && now() < stopMs) await one(now());
      }));
    }
  } finally {
    clearTimeout(deadline);
    if (reporter) clearInterval(reporter);
    pool.close();
  }
  return { samples, elapsedMs: now(), offeredRps, deadlineHit };
}

/** Running counters for the progress display (cheap: no pass over all samples). */
class ProgressCounter {
  ok = 0;
  failed = 0;
  inFlight = 0;
  private recentTtft: number[] = [];
  private lastAt = 0;
  private doneSinceLast = 0;

  record(r: RequestResult): void {
    if (r.ok) this.ok++;
    else this.failed++;
    this.doneSinceLast++;
    if (r.ok && r.ttftMs !== undefined) this.recentTtft.push(r.ttftMs);
  }

  snapshot(elapsedMs: number, sent: number): Progress {
    const seconds = Math.max(1e-3, (elapsedMs - this.lastAt) / 1000);
    const sorted = this.recentTtft.sort((a, b) => a - b);
    const p: Progress = {
      elapsedMs,
      sent,
      ok: this.ok,
      failed: this.failed,
      inFlight: this.inFlight,
      rate: round(this.doneSinceLast / seconds, 1),
      ttftP50: sorted.length ? round(sorted[Math.floor((sorted.length - 1) / 2)], 1) : null,
    };
    this.recentTtft = [];
    this.doneSinceLast = 0;
    this.lastAt = elapsedMs;
    return p;
  }
}

/**
 * Closed loop: C workers, each keeping one request in flight. A ramp staggers their starts over
 * the ramp; a burst adds (factor - 1) x C workers for the burst window.
 */
export function closedLoopWorkers(cfg: Pick<RunConfig, 'concurrency' | 'rampMs' | 'burst'>): { startMs: number; stopMs: number }[] {
  const c = cfg.concurrency ?? 1;
  const workers = Array.from({ length: c }, (_, i) => ({ startMs: cfg.rampMs ? (i * cfg.rampMs) / c : 0, stopMs: Number.POSITIVE_INFINITY }));
  const b = cfg.burst;
  if (b) for (let i = 0; i < Math.round((b.factor - 1) * c); i++) workers.push({ startMs: b.atMs, stopMs: b.atMs + b.durationMs });
  return workers;
}
