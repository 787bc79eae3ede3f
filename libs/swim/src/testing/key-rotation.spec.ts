import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CountingMetrics } from '@drover/runtime';
import { Keyring } from '../keyring';
import { SwimCluster } from './cluster';

/**
 * Rotating the cluster key node by node under live SWIM traffic (probes, gossip, push-pull over
 * the stream path): install everywhere, switch everywhere, retire everywhere. At no point may a
 * packet fail to open or a member be suspected.
 */
describe('cluster key rotation without downtime', () => {
  it('install / switch / retire, one node at a time, with zero undecryptable packets and zero suspicions', () => {
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    const rings = new Map<string, Keyring>();
    const metrics = new CountingMetrics();
    const bad: string[] = [];
    const c = SwimCluster.create({
      seed: 'rotation',
      size: 6,
      preset: 'local',
      metrics,
      keyringFor: (name) => {
        const ring = new Keyring([oldKey]);
        rings.set(name, ring);
        return ring;
      },
      onEvent: (observer, e) => {
        if (e.type === 'suspect' || e.type === 'dead' || e.type === 'left') bad.push(`${observer} saw ${e.member.name} ${e.type}`);
      },
    });
    expect(c.runUntil(() => c.converged(), 20_000), c.replay).toBe(true);
    const names = [...rings.keys()];
    // Each step waits a couple of probe rounds and push-pull intervals on every node.
    for (const step of [(r: Keyring) => r.addKey(newKey), (r: Keyring) => r.useKey(newKey), (r: Keyring) => r.removeKey(oldKey)]) {
      for (const name of names) {
        step(rings.get(name)!);
        c.advance(1_500);
      }
    }
    c.advance(10_000);
    expect(bad, c.replay).toEqual([]);
    expect(metrics.counter('drover_mesh_dropped_messages_total', { reason: 'decrypt_failed' }), c.replay).toBe(0);
    expect(c.converged()).toBe(true);
    for (const name of names) expect(rings.get(name)!.keyCount).toBe(1);

    // The old key is now worthless: a node holding only it cannot join.
    const straggler = new SwimCluster({ seed: 'straggler', size: 0, preset: 'local', scheduler: c.scheduler, network: c.network, keyring: new Keyring([oldKey]) });
    (straggler as unknown as { nextIndex: number }).nextIndex = 100;
    const late = straggler.addNode('late');
    late.node.join([c.get('node-0').address]);
    c.advance(10_000);
    expect(c.get('node-0').node.member('late')).toBeUndefined();
    expect(metrics.counter('drover_mesh_dropped_messages_total', { reason: 'decrypt_failed' })).toBeGreaterThan(0);
  });

  it('switching before every node installed the key is what breaks a mesh (why install comes first)', () => {
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    const rings = new Map<string, Keyring>();
    const metrics = new CountingMetrics();
    const c = SwimCluster.create({ seed: 'rotation-wrong', size: 4, preset: 'local', metrics, keyringFor: (name) => rings.set(name, new Keyring([oldKey])).get(name) });
    expect(c.runUntil(() => c.converged(), 20_000), c.replay).toBe(true);
    const ring = rings.get('node-0')!;
    ring.addKey(newKey);
    ring.useKey(newKey);
    c.advance(3_000);
    expect(metrics.counter('drover_mesh_dropped_messages_total', { reason: 'decrypt_failed' })).toBeGreaterThan(0);
  });
});
