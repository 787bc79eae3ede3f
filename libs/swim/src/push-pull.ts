import type { Member } from './member';
import type { GossipMsg, PushPullEntry } from './wire';

export function toEntry(m: Member): PushPullEntry {
  return { name: m.name, address: m.address, meta: m.meta, incarnation: m.incarnation, state: m.state, ...(m.proof ? { proof: m.proof } : {}) };
}

/**
 * Turns a remote push-pull entry into the gossip it stands for. A remote "dead" becomes a
 * suspicion here (as in memberlist): the remote view may be old, so the member gets the usual
 * chance to refute instead of being declared dead on hearsay.
 */
export function entryToGossip(entry: PushPullEntry, accuser: string): GossipMsg {
  switch (entry.state) {
    case 'alive':
      return { type: 'alive', incarnation: entry.incarnation, name: entry.name, address: entry.address, meta: entry.meta, proof: entry.proof };
    case 'suspect':
    case 'dead':
      return { type: 'suspect', incarnation: entry.incarnation, name: entry.name, from: accuser };
    case 'left':
      return { type: 'dead', incarnation: entry.incarnation, name: entry.name, from: entry.name, left: true, proof: entry.proof };
  }
}
