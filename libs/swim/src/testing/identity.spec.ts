import { describe, expect, it } from 'vitest';
import { CountingMetrics } from '@drover/runtime';
import { generateIdentityAuthority, issueIdentity, NodeIdentity } from '../identity';
import { Keyring } from '../keyring';
import { encodeFrame, encodePacket, encodePushPull, type SwimMessage } from '../wire';
import { SwimCluster } from './cluster';

const KEY = Uint8Array.from({ length: 32 }, (_, i) => (i * 29 + 3) & 255);
const SWIM_CONTEXT = 'drover-swim-v1\0';
const PUSH_PULL_CONTEXT = 'drover-swim-push-pull-v1\0';

describe('node identities: a node can only speak as itself', () => {
  const authority = generateIdentityAuthority();
  const identityOf = new Map<string, NodeIdentity>();
  const identity = (name: string) => {
    if (!identityOf.has(name)) identityOf.set(name, NodeIdentity.fromCredential(issueIdentity(authority.privateKey, name), authority.publicKey));
    return identityOf.get(name)!;
  };

  it('credentials: certified by the authority, bound to one name, refused under another authority', () => {
    const a = identity('node-a');
    expect(a.name).toBe('node-a');
    const proof = a.prove('ctx', new Uint8Array([1, 2]));
    expect(a.verify('ctx', new Uint8Array([1, 2]), proof)).toBe('node-a');
    expect(a.verify('ctx', new Uint8Array([1, 3]), proof)).toBeUndefined();
    expect(a.verify('other', new Uint8Array([1, 2]), proof)).toBeUndefined();
    const other = generateIdentityAuthority();
    expect(() => NodeIdentity.fromCredential(issueIdentity(other.privateKey, 'node-a'), authority.publicKey)).toThrow(/not certified/);
    // A certificate re-labelled with another name no longer verifies.
    const forged = new Uint8Array(proof);
    forged[1] ^= 1; // first byte of the name inside the certificate
    expect(a.verify('ctx', new Uint8Array([1, 2]), forged)).toBeUndefined();
  });

  it('a node holding the cluster key (and even an identity of its own) cannot make others accept messages as another node', () => {
    const metrics = new CountingMetrics();
    const events: string[] = [];
    const c = SwimCluster.create({
      seed: 'identity',
      size: 4,
      preset: 'local',
      metrics,
      keyring: new Keyring([KEY]),
      identityFor: identity,
      onEvent: (observer, e) => {
        if (e.type !== 'join') events.push(`${observer}: ${e.member.name} ${e.type}`);
      },
    });
    expect(c.runUntil(() => c.converged(), 30_000), c.replay).toBe(true);
    expect(metrics.total('drover_mesh_dropped_messages_total')).toBe(0);

    const evilIdentity = identity('evil');
    const ring = new Keyring([KEY]);
    const attacker = c.network.createTransport('10.6.6.6:7946');
    const node1 = c.get('node-1').node.member('node-1')!;
    const sign = (msg: Exclude<SwimMessage, { type: 'user' }>, as: NodeIdentity | undefined): Uint8Array =>
      encodeFrame(as ? { ...msg, proof: as.prove(SWIM_CONTEXT, encodeFrame(msg)) } : msg);
    const forgeries: Exclude<SwimMessage, { type: 'user' }>[] = [
      // Take over node-1's address, with a newer incarnation.
      { type: 'alive', incarnation: node1.incarnation + 100, name: 'node-1', address: '10.6.6.6:7946', meta: new Uint8Array() },
      // Declare node-2 dead in node-1's name, and node-3 gone in its own name.
      { type: 'dead', incarnation: 0, name: 'node-2', from: 'node-1', left: false },
      { type: 'dead', incarnation: 50, name: 'node-3', from: 'node-3', left: true },
      { type: 'suspect', incarnation: 50, name: 'node-2', from: 'node-3' },
      { type: 'ping', seq: 7, target: 'node-0', source: 'node-1', sourceAddress: '10.6.6.6:7946' },
    ];
    let sent = 0;
    for (const as of [evilIdentity, undefined]) {
      for (const msg of forgeries) {
        for (const target of ['node-0', 'node-1', 'node-2', 'node-3']) {
          attacker.send(c.get(target).address, ring.seal(encodePacket([sign(msg, as)])));
          sent++;
        }
      }
    }
    c.advance(200);
    expect(metrics.counter('drover_mesh_dropped_messages_total', { reason: 'forged_sender' })).toBe(sent);

    // Push-pull too: evil's own proof on the message is fine, node-1's alive record is not.
    const pp = encodePushPull(
      { join: false, needState: false, digest: 1, userState: undefined, entries: [{ name: 'node-1', address: '10.6.6.6:7946', meta: new Uint8Array(), incarnation: node1.incarnation + 200, state: 'alive', proof: evilIdentity.prove(SWIM_CONTEXT, encodeFrame({ type: 'alive', incarnation: node1.incarnation + 200, name: 'node-1', address: '10.6.6.6:7946', meta: new Uint8Array() })) }] },
      (content) => evilIdentity.prove(PUSH_PULL_CONTEXT, content),
    );
    let reply: Uint8Array | undefined;
    attacker.request(c.get('node-0').address, ring.withPurpose('swim-stream').seal(pp), 1000, (_err, r) => (reply = r));
    c.advance(3_000);
    expect(reply).toBeDefined(); // evil may speak as evil
    expect(metrics.counter('drover_mesh_dropped_messages_total', { reason: 'forged_sender' })).toBe(sent + 1);

    for (const n of c.runningNodes()) {
      expect(n.node.member('node-1')?.address, n.name).toBe(c.get('node-1').address);
      for (const name of ['node-1', 'node-2', 'node-3']) expect(n.node.member(name)?.state, `${n.name} sees ${name}`).toBe('alive');
      expect(n.node.member('evil'), n.name).toBeUndefined();
    }
    expect(events.filter((e) => !e.includes('evil'))).toEqual([]);
    expect(c.converged()).toBe(true);
  });

  it('a node with the cluster key but no identity cannot join; one with an identity joins as itself', () => {
    const metrics = new CountingMetrics();
    const c = SwimCluster.create({ seed: 'identity-join', size: 3, preset: 'local', metrics, keyring: new Keyring([KEY]), identityFor: identity });
    expect(c.runUntil(() => c.converged(), 30_000), c.replay).toBe(true);
    const outsiders = new SwimCluster({ seed: 'outsider', size: 0, preset: 'local', scheduler: c.scheduler, network: c.network, keyring: new Keyring([KEY]), identityFor: (name) => (name === 'welcome' ? identity('welcome') : undefined) });
    (outsiders as unknown as { nextIndex: number }).nextIndex = 100;
    outsiders.addNode('anonymous').node.join([c.get('node-0').address]);
    outsiders.addNode('welcome').node.join([c.get('node-0').address]);
    c.advance(10_000);
    expect(c.get('node-0').node.member('anonymous')).toBeUndefined();
    expect(c.get('node-1').node.member('welcome')?.state).toBe('alive');
    expect(metrics.counter('drover_mesh_dropped_messages_total', { reason: 'forged_sender' })).toBeGreaterThan(0);
  });

  it('a node refuses to start with an identity issued for another name', async () => {
    expect(() => SwimCluster.create({ seed: 'mismatch', size: 1, preset: 'local', identityFor: () => identity('someone-else') })).toThrow(/identity is for 'someone-else'/);
  });
});
