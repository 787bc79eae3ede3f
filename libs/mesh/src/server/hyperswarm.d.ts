/* eslint-disable @typescript-eslint/no-require-imports -- ambient CommonJS module declarations need `import x = require()` */
// hyperswarm and hyperdht ship no TypeScript types: declare what Drover uses.
declare module 'hyperdht' {
  interface DHTOptions {
    bootstrap?: (string | { host: string; port: number })[];
    host?: string;
    port?: number;
    ephemeral?: boolean;
    firewalled?: boolean;
  }
  class DHT {
    constructor(opts?: DHTOptions);
    fullyBootstrapped(): Promise<void>;
    address(): { host: string; port: number };
    destroy(): Promise<void>;
  }
  export = DHT;
}

declare module 'hyperdht/testnet' {
  import DHT = require('hyperdht');
  interface Testnet {
    nodes: DHT[];
    bootstrap: { host: string; port: number }[];
    destroy(): Promise<void>;
  }
  function createTestnet(size?: number, opts?: { host?: string; port?: number }): Promise<Testnet>;
  export = createTestnet;
}

declare module 'hyperswarm' {
  import type { Duplex } from 'node:stream';
  import DHT = require('hyperdht');
  interface PeerDiscovery {
    flushed(): Promise<void>;
    refresh(opts?: { client?: boolean; server?: boolean }): Promise<void>;
    destroy(): Promise<void>;
  }
  class Hyperswarm {
    constructor(opts?: { dht?: DHT; maxPeers?: number });
    join(topic: Buffer, opts?: { client?: boolean; server?: boolean }): PeerDiscovery;
    on(event: 'connection', listener: (socket: Duplex & { remotePublicKey: Buffer }, info: unknown) => void): this;
    destroy(): Promise<void>;
    connections: Set<Duplex>;
  }
  export = Hyperswarm;
}
