import { lookup, resolve4 } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Logger, TimerHandle, Timers } from '@drover/runtime';

export type DnsResolver = (name: string) => Promise<string[]>;

const systemResolver: DnsResolver = async (name) => {
  try {
    return await resolve4(name);
  } catch {
    // /etc/hosts names (docker-compose service names, localhost) resolve through lookup only.
    return (await lookup(name, { all: true, family: 4 })).map((a) => a.address);
  }
};

/** Static seeds `host:port`, DNS names resolved to every address they have. */
export async function resolveSeeds(seeds: readonly string[], resolver: DnsResolver = systemResolver): Promise<string[]> {
  const out = new Set<string>();
  await Promise.all(
    seeds.map(async (seed) => {
      const i = seed.lastIndexOf(':');
      const host = seed.slice(0, i);
      const port = seed.slice(i + 1);
      if (i <= 0 || !/^\d+$/.test(port)) return;
      if (isIP(host)) out.add(seed);
      else for (const a of await resolver(host).catch(() => [] as string[])) out.add(`${a}:${port}`);
    }),
  );
  return [...out].sort();
}

/**
 * Kubernetes headless-service discovery: every A record of `name` is a seed (`addr:port`),
 * re-resolved periodically so new pods are found.
 */
export class DnsDiscovery {
  private timer: TimerHandle | undefined;

  constructor(
    private readonly name: string,
    private readonly port: number,
    private readonly intervalMs: number,
    private readonly timers: Timers,
    private readonly onSeeds: (seeds: string[]) => void,
    private readonly log: Logger,
    private readonly resolver: DnsResolver = systemResolver,
  ) {}

  async start(): Promise<string[]> {
    const first = await this.resolveOnce();
    this.timer = this.timers.setInterval(() => void this.resolveOnce().then((s) => s.length && this.onSeeds(s)), this.intervalMs);
    return first;
  }

  stop(): void {
    this.timers.clearInterval(this.timer);
  }

  async resolveOnce(): Promise<string[]> {
    try {
      return (await this.resolver(this.name)).map((a) => `${a}:${this.port}`).sort();
    } catch (err) {
      this.log.warn({ name: this.name, err: (err as Error).message }, 'mesh DNS discovery failed');
      return [];
    }
  }
}
