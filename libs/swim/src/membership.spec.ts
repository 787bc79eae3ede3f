import { describe, expect, it } from 'vitest';
import type { Member, MemberState } from './member';
import { applyGossip, type SelfView } from './membership';
import type { GossipMsg } from './wire';

const self: SelfView = { name: 'me', incarnation: 5, leaving: false };
const meta = new Uint8Array([1]);

function member(state: MemberState, incarnation: number): Member {
  return { name: 'x', address: 'x:1', meta, incarnation, state, stateChangeMs: 0 };
}
const alive = (incarnation: number, address = 'x:1'): GossipMsg => ({ type: 'alive', incarnation, name: 'x', address, meta });
const suspect = (incarnation: number, from = 'a'): GossipMsg => ({ type: 'suspect', incarnation, name: 'x', from });
const dead = (incarnation: number, left = false): GossipMsg => ({ type: 'dead', incarnation, name: 'x', from: left ? 'x' : 'a', left });

describe('membership transitions', () => {
  // [description, current, message, expected new state (undefined = ignored), event]
  const table: Array<[string, Member | undefined, GossipMsg, MemberState | undefined, string | undefined]> = [
    ['alive about an unknown member adds it', undefined, alive(0), 'alive', 'join'],
    ['suspect about an unknown member is ignored', undefined, suspect(3), undefined, undefined],
    ['dead about an unknown member is ignored', undefined, dead(3), undefined, undefined],
    ['alive with the same incarnation is stale', member('alive', 2), alive(2), undefined, undefined],
    ['alive with a higher incarnation refreshes (no event without change)', member('alive', 2), alive(3), 'alive', undefined],
    ['alive with a new address is an update', member('alive', 2), alive(3, 'x:2'), 'alive', 'update'],
    ['suspect with the same incarnation suspects an alive member', member('alive', 2), suspect(2), 'suspect', 'suspect'],
    ['suspect with a lower incarnation is stale', member('alive', 2), suspect(1), undefined, undefined],
    ['alive with the same incarnation does not clear a suspicion', member('suspect', 2), alive(2), undefined, undefined],
    ['alive with a higher incarnation refutes a suspicion', member('suspect', 2), alive(3), 'alive', 'alive'],
    ['dead with the same incarnation kills a suspect', member('suspect', 2), dead(2), 'dead', 'dead'],
    ['dead with the same incarnation kills an alive member', member('alive', 2), dead(2), 'dead', 'dead'],
    ['dead with a lower incarnation is stale', member('alive', 2), dead(1), undefined, undefined],
    ['suspect does not revive or touch the dead', member('dead', 2), suspect(3), undefined, undefined],
    ['a replayed alive cannot resurrect the dead', member('dead', 2), alive(2), undefined, undefined],
    ['a higher alive brings a dead member back (restart)', member('dead', 2), alive(3), 'alive', 'join'],
    ['left upgrades dead at the same incarnation', member('dead', 2), dead(2, true), 'left', 'left'],
    ['dead does not downgrade left', member('left', 2), dead(2), undefined, undefined],
    ['a higher alive brings a left member back', member('left', 2), alive(3), 'alive', 'join'],
    ['dead on dead is ignored', member('dead', 2), dead(3), undefined, undefined],
  ];

  it.each(table)('%s', (_description, current, msg, expectedState, expectedEvent) => {
    const t = applyGossip(current, msg, self, 100);
    expect(t.next?.state).toBe(expectedState);
    expect(t.event).toBe(expectedEvent);
    if (expectedState) {
      expect(t.rebroadcast).toBe(true);
      expect(t.next!.incarnation).toBe(msg.incarnation);
    }
  });

  it('a second suspect at the same incarnation is a confirmation, not a new suspicion', () => {
    const t = applyGossip(member('suspect', 2), suspect(2, 'b'), self, 100);
    expect(t.next).toBeUndefined();
    expect(t.confirmFrom).toBe('b');
  });

  it('records the time of a state change but keeps it across alive refreshes', () => {
    expect(applyGossip(member('alive', 1), suspect(1), self, 123).next!.stateChangeMs).toBe(123);
    expect(applyGossip(member('alive', 1), alive(2), self, 123).next!.stateChangeMs).toBe(0);
  });

  describe('gossip about ourselves', () => {
    const about = (msg: GossipMsg): GossipMsg => ({ ...msg, name: 'me' });
    it.each([
      ['suspect at our incarnation is refuted above it', about(suspect(5)), 6],
      ['dead at a higher incarnation is refuted above it', about(dead(9)), 10],
      ['suspect at an older incarnation is stale', about(suspect(4)), undefined],
      ['dead at an older incarnation is stale', about(dead(4)), undefined],
      ['alive from a previous life (higher incarnation) is refuted', about(alive(7)), 8],
      ['alive at our own incarnation is ignored', about(alive(5)), undefined],
    ])('%s', (_d, msg, refute) => {
      const t = applyGossip(undefined, msg, self, 0);
      expect(t.refuteWith).toBe(refute);
      expect(t.next).toBeUndefined();
    });

    it('a stale accusation is answered by reasserting ourselves to the accuser', () => {
      expect(applyGossip(undefined, about(suspect(4, 'b')), self, 0)).toEqual({ reassertTo: 'b' });
      expect(applyGossip(undefined, about(alive(4)), self, 0)).toEqual({});
    });

    it('a leaving node does not refute its departure', () => {
      expect(applyGossip(undefined, about(dead(5, true)), { ...self, leaving: true }, 0)).toEqual({});
    });
  });
});
