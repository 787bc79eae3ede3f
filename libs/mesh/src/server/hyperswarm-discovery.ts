import DHT from 'hyperdht';
import Hyperswarm from 'hyperswarm';
import { noopLogger, type Logger } from '@drover/runtime';
import type { Keyring } from '@drover/swim';

export interface HyperswarmDiscoveryOptions {
  /**
   * Topics to join, derived from the cluster key(s) (`meshTopics`), so only nodes sharing a key
   * meet. Every installed key's topic is joined, so nodes mid-rotation still find each other.
   */
  topics: Buffer[];
  /** This node's SWIM address (host:port) told to every peer found. */
  meshAddress: string;
  /** hyperdht bootstrap nodes (host:port); empty means the public DHT. */
  bootstrap: string[];
  /** How often to re-announce and look up (peers joining at the same moment otherwise miss each other). */
  refreshMs?: number;
  onSeeds: (seeds: string[]) => void;
  log?: Logger;
}

const ADDRESS = /^[A-Za-z0-9.\-:[\]]{1,255}:\d{1,5}$/;
const MAX_LINE = 512;

/**
 * The public topics of a keyring: HKDF subkeys of each cluster key for this purpose alone. The
 * topic is announced on a public DHT, so it must not be a guessing oracle for the sealing keys:
 * it is one-way from a 32-byte random key and shares no key with sealing.
 */
export function meshTopics(keyring: Keyring): Buffer[] {
  return keyring.withPurpose('hyperswarm-topic').allSubkeys();
}

/**
 * Seeds from a hyperswarm topic derived from the cluster key: nodes join the topic, and over each
 * (Noise-encrypted) swarm connection they exchange one line, their mesh address. Those addresses
 * feed SWIM as seeds; SWIM and the sealed sync channel do the rest.
 */
export class HyperswarmDiscovery {
  private swarm: Hyperswarm | undefined;
  private dht: DHT | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly log: Logger;
  readonly found = new Set<string>();

  constructor(private readonly opts: HyperswarmDiscoveryOptions) {
    this.log = opts.log ?? noopLogger;
  }

  async start(): Promise<void> {
    const bootstrap = this.opts.bootstrap.map((b) => {
      const i = b.lastIndexOf(':');
      return { host: b.slice(0, i), port: Number(b.slice(i + 1)) };
    });
    this.dht = new DHT(bootstrap.length > 0 ? { bootstrap, host: bootstrap[0].host === '127.0.0.1' ? '127.0.0.1' : undefined } : {});
    this.swarm = new Hyperswarm({ dht: this.dht });
    this.swarm.on('connection', (socket) => {
      socket.on('error', () => undefined);
      socket.write(`${JSON.stringify({ mesh: this.opts.meshAddress })}\n`);
      let buf = '';
      socket.on('data', (d: Buffer) => {
        buf += d.toString();
        if (buf.length > MAX_LINE) return socket.destroy();
        const nl = buf.indexOf('\n');
        if (nl < 0) return;
        try {
          const addr = (JSON.parse(buf.slice(0, nl)) as { mesh?: unknown }).mesh;
          if (typeof addr === 'string' && ADDRESS.test(addr) && addr !== this.opts.meshAddress && !this.found.has(addr)) {
            this.found.add(addr);
            this.log.info({ peer: addr }, 'hyperswarm found a mesh peer');
            this.opts.onSeeds([addr]);
          }
        } catch {
          // not our protocol: ignore
        }
        buf = '';
      });
    });
    const discoveries = this.opts.topics.map((topic) => this.swarm!.join(topic, { client: true, server: true }));
    await Promise.all(discoveries.map((d) => d.flushed()));
    this.timer = setInterval(() => { // allow-wallclock: real DHT
      for (const d of discoveries) void d.refresh().catch(() => undefined);
    }, this.opts.refreshMs ?? 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.swarm?.destroy().catch(() => undefined);
    await this.dht?.destroy().catch(() => undefined);
  }
}
