import { randomBytes } from 'node:crypto';
import createTestnet from 'hyperdht/testnet';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { waitFor } from '../support/cluster';
import { freeMeshPort, startGatewayProcess, type GatewayProcess } from '../support/process';
import { ADMIN } from '../support/auth';

const KEY = randomBytes(32).toString('base64');

describe('mesh discovery through hyperswarm (local DHT testnet on loopback)', () => {
  const nodes: GatewayProcess[] = [];
  let testnet: Awaited<ReturnType<typeof createTestnet>>;
  beforeAll(async () => {
    testnet = await createTestnet(3, { host: '127.0.0.1' });
    const bootstrap = testnet.bootstrap.map((b) => `${b.host}:${b.port}`).join(',');
    for (let i = 0; i < 3; i++) {
      const port = await freeMeshPort();
      nodes.push(
        await startGatewayProcess(['--mesh', '--mesh-port', String(port), '--mesh-discovery', 'hyperswarm', '--mesh-hyperswarm-bootstrap', bootstrap, '--mesh-key', KEY, '--mesh-timings', 'local', '--node-name', `hs-${i}`]),
      );
    }
  });
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop('SIGKILL')));
    await testnet?.destroy();
  });

  it('three gateways with no seeds find each other and form one membership', async () => {
    await waitFor(async () => {
      const all = await Promise.all(nodes.map(async (n) => (await (await fetch(`${n.url}/mesh/status`, { headers: ADMIN })).json()) as { members: { state: string }[] }));
      return all.every((s) => s.members.filter((m) => m.state === 'alive').length === 3);
    }, 30_000, 'hyperswarm membership');
  });
});
