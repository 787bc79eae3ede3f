import { closeAgents, send, type RequestResult } from './client';
import { round, summarize } from './stats';
import { seeded, workload, type Conversation, type WorkloadName } from './workloads';

export interface RunConfig {
  urls: string[];
  model: string;
  api: 'chat' | 'completions';
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
  burst?: { factor: number; atMs: number; durationMs: number };
  workload: WorkloadName;
  /** Spread over URLs per request, or keep a conversation on one URL. */
  spread: 'request' | 'session';
  maxConnections: number;
  onProgress?: (p: Progress) => void;
}

export interface Progress {
  elapsedMs: number;
  sent: number;
  ok: number;
  failed: number;
  inFlight: number;
  rate: number;
  ttftP50: number | null;
}

export interface Sample extends RequestResult {
  url: string;
  /** ms since the run started, when the request was due (open loop) or sent. */
  dueMs: number;
  sentMs: number;
}

/** Runs the load and returns every sample plus the wall time it took. */
export async function runLoad(cfg: RunConfig): Promise<{ samples: Sample[]; elapsedMs: number; offeredRps: number | null }> {
  const t0 = performance.now();
  const now = () => performance.now() - t0;
  const rand = seeded(cfg.seed);
  const makeConversation = workload(cfg.workload, cfg.seed);
  const ready: Conversation[] = [];
  const home = new Map<Conversation, string>();
  let nextConversation = 0;
  let urlIndex = 0;
  let sent = 0;
  let inFlight = 0;
  const samples: Sample[] = [];
  const deadline = (cfg.durationMs ?? Number.POSITIVE_INFINITY) + 0;
  const budget = cfg.requests ?? Number.POSITIVE_INFINITY;
  const hardStop = (cfg.durationMs ?? 3_600_000) + cfg.timeoutMs + 5_000;
  const more = () => sent < budget && now() < deadline;
  const pickUrl = (c: Conversation): string => {
    if (cfg.spread === 'session') {
      if (!home.has(c)) home.set(c, cfg.urls[urlIndex++ % cfg.urls.length]);
      return home.get(c)!;
    }
    return cfg.urls[urlIndex++ % cfg.urls.length];
  };
  const nextTurn = (): { conv: Conversation; messages: NonNullable<ReturnType<Conversation['next']>> } => {
    for (;;) {
      const conv = ready.shift() ?? makeConversation(nextConversation++);
      const messages = conv.next();
      if (messages) return { conv, messages };
    }
  };
  // Connection cap: requests beyond it wait (and their schedule lag shows it).
  const waiters: (() => void)[] = [];
  const acquire = () => (inFlight < cfg.maxConnections ? Promise.resolve() : new Promise<void>((r) => waiters.push(r)));
  const one = async (dueMs: number): Promise<void> => {
    sent++;
    const { conv, messages } = nextTurn();
    await acquire();
    inFlight++;
    const url = pickUrl(conv);
    const sentMs = now();
    const r = await send({ url, api: cfg.api, model: cfg.model, messages, stream: cfg.stream, maxTokens: cfg.maxTokens, apiKey: cfg.apiKey, timeoutMs: cfg.timeoutMs }, cfg.maxConnections);
    inFlight--;
    waiters.shift()?.();
    samples.push({ ...r, url, dueMs, sentMs });
    if (r.ok) {
      conv.answer(r.text);
      ready.push(conv);
    }
  };

  let progressTimer: NodeJS.Timeout | undefined;
  if (cfg.onProgress) {
    let lastOk = 0;
    let lastAt = 0;
    progressTimer = setInterval(() => {
      const ok = samples.filter((s) => s.ok).length;
      const t = now();
      const recent = samples.slice(-200).filter((s) => s.ttftMs !== undefined).map((s) => s.ttftMs!);
      cfg.onProgress!({ elapsedMs: t, sent, ok, failed: samples.length - ok, inFlight, rate: (ok - lastOk) / ((t - lastAt) / 1000 || 1), ttftP50: summarize(recent).p50 });
      lastOk = ok;
      lastAt = t;
    }, 1000);
  }

  const pending = new Set<Promise<void>>();
  const track = (p: Promise<void>) => {
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };
  let offered: number | null = null;
  if (cfg.rps !== undefined) {
    // Open loop: arrivals follow the schedule whatever the server does (no coordinated omission).
    let due = 0;
    let count = 0;
    while (more()) {
      const rate = rateAt(cfg, due);
      due += (-Math.log(1 - rand()) * 1000) / Math.max(rate, 1e-6);
      if (due > deadline) break;
      const wait = due - now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (now() > hardStop) break;
      count++;
      track(one(due));
    }
    offered = cfg.durationMs ? count / (cfg.durationMs / 1000) : null;
  } else {
    const loops = Array.from({ length: cfg.concurrency ?? 1 }, async () => {
      while (more() && now() < hardStop) await one(now());
    });
    await Promise.all(loops);
  }
  await Promise.race([Promise.all(pending), new Promise((r) => setTimeout(r, Math.max(0, hardStop - now())))]);
  if (progressTimer) clearInterval(progressTimer);
  closeAgents();
  return { samples, elapsedMs: now(), offeredRps: offered === null ? null : round(offered) };
}

function rateAt(cfg: RunConfig, tMs: number): number {
  let rate = cfg.rps!;
  if (cfg.rampMs && tMs < cfg.rampMs) rate *= Math.max(0.05, tMs / cfg.rampMs);
  if (cfg.burst && tMs >= cfg.burst.atMs && tMs < cfg.burst.atMs + cfg.burst.durationMs) rate *= cfg.burst.factor;
  return rate;
}
