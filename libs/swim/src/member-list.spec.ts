import { describe, expect, it } from 'vitest';
import { SeededRng } from '@drover/runtime';
import type { Member, MemberState } from './member';
import { MemberList } from './member-list';

const m = (name: string, state: MemberState, incarnation = 0): Member => ({ name, address: `${name}:1`, meta: new Uint8Array(0), incarnation, state, stateChangeMs: 0 });

describe('MemberList', () => {
  it('keeps the live index, suspect count and digests in step with the records', () => {
    const a = new MemberList();
    const b = new MemberList();
    a.set(m('x', 'alive'));
    a.set(m('y', 'alive'));
    a.set(m('y', 'suspect'));
    b.set(m('y', 'alive'));
    b.set(m('x', 'alive'));
    expect(a.liveCount).toBe(2);
    expect(a.suspectCount).toBe(1);
    // Suspect and alive hash alike; insertion order does not matter.
    expect(a.digest).toBe(b.digest);
    expect(a.liveSetDigest).toBe(b.liveSetDigest);
    a.set(m('y', 'dead'));
    expect(a.liveCount).toBe(1);
    expect(a.suspectCount).toBe(0);
    expect(a.digest).not.toBe(b.digest);
    expect([...a.downNames()]).toEqual(['y']);
  });

  it('reaps down members into tombstones that are unlisted but remembered', () => {
    const list = new MemberList();
    list.set(m('x', 'alive'));
    const before = list.digest;
    list.set(m('y', 'dead', 4));
    list.reap('y');
    expect(list.digest).toBe(before);
    expect(list.size).toBe(1);
    expect(list.isReaped('y')).toBe(true);
    expect(list.get('y')?.incarnation).toBe(4);
    expect(list.listed().map((r) => r.name)).toEqual(['x']);
    list.reap('x'); // live members are never reaped
    expect(list.isReaped('x')).toBe(false);
    list.forget('y');
    expect(list.get('y')).toBeUndefined();
    list.set(m('y', 'alive', 5));
    expect(list.size).toBe(2);
  });

  it('samples distinct live members, honouring exclusions', () => {
    const list = new MemberList();
    for (let i = 0; i < 50; i++) list.set(m(`n${i}`, i % 10 === 0 ? 'dead' : 'alive'));
    const rng = new SeededRng('sample');
    for (let round = 0; round < 100; round++) {
      const picked = list.randomLive(rng, 3, (name) => name === 'n1');
      expect(new Set(picked).size).toBe(picked.length);
      expect(picked).not.toContain('n1');
      expect(picked.every((name) => list.get(name)!.state === 'alive')).toBe(true);
    }
    expect(list.randomLive(rng, 3, () => true)).toEqual([]);
  });
});
