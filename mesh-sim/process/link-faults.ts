/**
 * What each directed link between two gateways suffers right now (process mode). A link is
 * `from → to`: traffic node `from` sends to node `to`. Faults are layered: every active rule that
 * covers a link contributes (the worst loss, the sum of delays, any partition), so overlapping
 * faults compose and healing one leaves the others in place. Random choices (which datagram is
 * lost, how much jitter) come from a seeded generator per link.
 */

import { SeededRng } from '@drover/runtime';

export interface LinkRule {
  id: number;
  /** Does the rule cover traffic from `from` to `to`? */
  covers: (from: string, to: string) => boolean;
  partition?: boolean;
  loss?: number;
  delayMs?: number;
  jitterMs?: number;
}

export interface LinkCounters {
  udp_forwarded: number;
  udp_lost: number;
  udp_partitioned: number;
  udp_delayed: number;
  tcp_connections: number;
  tcp_refused: number;
  tcp_reset: number;
  tcp_bytes: number;
}

const emptyCounters = (): LinkCounters => ({ udp_forwarded: 0, udp_lost: 0, udp_partitioned: 0, udp_delayed: 0, tcp_connections: 0, tcp_refused: 0, tcp_reset: 0, tcp_bytes: 0 });

/** A seeded stream of uniform numbers in [0, 1), from the runtime's generator. */
export function seededRandom(seed: string): () => number {
  const rng = new SeededRng(seed);
  return () => rng.next();
}

export class LinkFaults {
  private readonly rules = new Map<number, LinkRule>();
  private readonly rngs = new Map<string, () => number>();
  private readonly counters = new Map<string, LinkCounters>();
  private readonly cutListeners = new Set<(from: string, to: string) => void>();
  private nextId = 1;
  /**
   * Traffic the proxies could not attribute to a sender: datagrams from an unknown address and
   * connections no gateway owns are forwarded unfaulted (both should stay 0); connections whose
   * client had already closed by the time the proxy accepted them are dropped.
   */
  readonly unidentified = { udp: 0, tcp: 0, tcp_closed: 0 };

  constructor(private readonly seed: string) {}

  /** Adds a rule; returns its id for `remove`. Partition rules cut open TCP connections at once. */
  add(rule: Omit<LinkRule, 'id'>): number {
    const id = this.nextId++;
    this.rules.set(id, { ...rule, id });
    if (rule.partition) for (const l of this.cutListeners) l('*', '*');
    return id;
  }

  remove(id: number): void {
    this.rules.delete(id);
  }

  clear(): void {
    this.rules.clear();
  }

  /** Called when a partition starts so the TCP proxies reset connections that now cross a cut. */
  onCut(listener: (from: string, to: string) => void): () => void {
    this.cutListeners.add(listener);
    return () => this.cutListeners.delete(listener);
  }

  partitioned(from: string, to: string): boolean {
    for (const r of this.rules.values()) if (r.partition && r.covers(from, to)) return true;
    return false;
  }

  /** A TCP connection between the two nodes survives only if neither direction is cut. */
  tcpAllowed(a: string, b: string): boolean {
    return !this.partitioned(a, b) && !this.partitioned(b, a);
  }

  /** One datagram from → to: dropped (and why) or delivered after `delayMs`. */
  datagram(from: string, to: string): { drop: 'partition' | 'loss' | undefined; delayMs: number } {
    const c = this.count(from, to);
    if (this.partitioned(from, to)) {
      c.udp_partitioned++;
      return { drop: 'partition', delayMs: 0 };
    }
    const rnd = this.rng(from, to);
    let loss = 0;
    for (const r of this.rules.values()) if (r.loss && r.covers(from, to)) loss = Math.max(loss, r.loss);
    if (loss > 0 && rnd() < loss) {
      c.udp_lost++;
      return { drop: 'loss', delayMs: 0 };
    }
    const delayMs = this.sampleDelay(from, to, rnd);
    c.udp_forwarded++;
    if (delayMs > 0) c.udp_delayed++;
    return { drop: undefined, delayMs };
  }

  /** Delay for one TCP chunk (the proxy keeps chunks in order, so jitter never reorders a stream). */
  chunkDelay(from: string, to: string): number {
    return this.sampleDelay(from, to, this.rng(from, to));
  }

  count(from: string, to: string): LinkCounters {
    const key = `${from}>${to}`;
    let c = this.counters.get(key);
    if (!c) this.counters.set(key, (c = emptyCounters()));
    return c;
  }

  /** Every link's counters, keyed `from>to`, plus totals. */
  snapshot(): { links: Record<string, LinkCounters>; total: LinkCounters; unidentified: { udp: number; tcp: number; tcp_closed: number } } {
    const total = emptyCounters();
    const links: Record<string, LinkCounters> = {};
    for (const [k, c] of [...this.counters].sort(([a], [b]) => a.localeCompare(b))) {
      links[k] = { ...c };
      for (const f of Object.keys(total) as (keyof LinkCounters)[]) total[f] += c[f];
    }
    return { links, total, unidentified: { ...this.unidentified } };
  }

  private sampleDelay(from: string, to: string, rnd: () => number): number {
    let ms = 0;
    for (const r of this.rules.values()) {
      if (!r.covers(from, to) || (!r.delayMs && !r.jitterMs)) continue;
      ms += Math.max(0, (r.delayMs ?? 0) + (r.jitterMs ?? 0) * (2 * rnd() - 1));
    }
    return ms;
  }

  private rng(from: string, to: string): () => number {
    const key = `${from}>${to}`;
    let r = this.rngs.get(key);
    if (!r) this.rngs.set(key, (r = seededRandom(`${this.seed}:${key}`)));
    return r;
  }
}
