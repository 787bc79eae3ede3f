/**
 * What process mode reads from the running gateways: `/mesh/status`, the membership events each
 * gateway logs, and from those the no_false_positives verdicts.
 */
import { SIM_AUTH } from './sim-keys';

export interface MeshStatusView {
  node: string;
  members: { name: string; state: string; address: string }[];
  digest?: { registry: string; shards: string; members: string };
  shard_versions?: unknown;
}

export async function meshStatus(url: string): Promise<MeshStatusView | undefined> {
  try {
    const res = await fetch(`${url}/mesh/status`, { headers: SIM_AUTH, signal: AbortSignal.timeout(1000) });
    return (await res.json()) as MeshStatusView;
  } catch {
    return undefined;
  }
}

/** A node was under a fault that excuses its being declared dead (or its declaring others dead). */
export interface ExcuseWindow {
  node: string;
  fromMs: number;
  toMs: number;
}

/**
 * no_false_positives in real time: a live node declared dead by a peer, unless a kill, restart,
 * leave, pause, partition, join, churn or rolling restart touched either of them within `graceMs`
 * (loss and delay never excuse). Declarations come from each gateway's `mesh membership` log
 * (exact) and from `/mesh/status` polls (alive → dead transitions), whichever shows them first.
 */
export class FalsePositiveWatch {
  private readonly windows: ExcuseWindow[] = [];
  private readonly lastState = new Map<string, string>();
  private readonly reported = new Map<string, number>();
  readonly found: string[] = [];
  declarations = 0;

  constructor(private readonly graceMs: number, private readonly isLive: (node: string) => boolean) {}

  /** Returns the window, whose `toMs` may be set later (a killed node's lasts until it is back). */
  excuse(node: string, fromMs: number, toMs: number): ExcuseWindow {
    const w = { node, fromMs, toMs };
    this.windows.push(w);
    return w;
  }

  /** A `mesh membership` log line of `observer` at time `t` (ms since the load started). */
  onEvent(observer: string, subject: string, event: string, t: number): void {
    if (event === 'dead') this.declare(observer, subject, t, 'log');
  }

  /** One `/mesh/status` of `observer` at time `t`; `restarted` forgets its earlier view. */
  onStatus(observer: string, view: MeshStatusView, t: number): void {
    for (const m of view.members) {
      const key = `${observer}>${m.name}`;
      const before = this.lastState.get(key);
      this.lastState.set(key, m.state);
      if (m.state === 'dead' && before !== undefined && before !== 'dead') this.declare(observer, m.name, t, 'status');
    }
  }

  /** A restarted observer starts a fresh view. */
  forget(observer: string): void {
    for (const k of [...this.lastState.keys()]) if (k.startsWith(`${observer}>`)) this.lastState.delete(k);
  }

  private excused(node: string, t: number): boolean {
    return this.windows.some((w) => w.node === node && w.fromMs <= t && t <= w.toMs + this.graceMs);
  }

  private declare(observer: string, subject: string, t: number, how: string): void {
    // Checked from the start of the load: the mesh forms while gateways are still starting.
    if (observer === subject || t < 0) return;
    this.declarations++;
    if (!this.isLive(subject) || this.excused(subject, t) || this.excused(observer, t)) return;
    // The log line and the status poll see the same event: one report per pair within 2 s.
    const key = `${observer}>${subject}`;
    const last = this.reported.get(key);
    this.reported.set(key, t);
    if (last !== undefined && Math.abs(t - last) < 2000) return;
    this.found.push(`${observer} declared ${subject} dead at ${Math.round(t)} ms (${how})`);
  }
}
