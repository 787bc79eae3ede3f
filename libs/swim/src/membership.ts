import type { GossipMsg } from './wire';
import type { Member, MemberState } from './member';

/** What a member-change listener hears. `join` covers first sight and rejoin after dead/left. */
export type MemberEventType = 'join' | 'update' | 'suspect' | 'alive' | 'dead' | 'left';

/** The node applying gossip, as the transitions need to see it. */
export interface SelfView {
  name: string;
  incarnation: number;
  /** A leaving node does not refute its own departure. */
  leaving: boolean;
}

/**
 * The outcome of applying one piece of gossip. All fields optional: an empty transition means
 * "stale or irrelevant, ignore".
 */
export interface Transition {
  /** The member's new record. */
  next?: Member;
  event?: MemberEventType;
  /** Re-gossip the message (it carried news). */
  rebroadcast?: boolean;
  /** A suspicion about an already-suspect member from a new accuser. */
  confirmFrom?: string;
  /** Gossip about ourselves that we must contradict: announce this incarnation. */
  refuteWith?: number;
  /**
   * A stale accusation about ourselves (already refuted): tell this accuser our current alive
   * directly, in case our refutation never reached it (otherwise its timer could still expire).
   */
  reassertTo?: string;
}

const NOTHING: Transition = {};

/**
 * Applies gossip to our record of a member (undefined if unknown). Pure. The precedence rules:
 * - alive(i) wins over any state with incarnation < i (so a restarted node rejoins with a higher one);
 * - suspect(i) wins over alive(≤ i) and suspect(< i); a suspect(i) on suspect(i) is a confirmation;
 * - dead/left(i) win over alive/suspect(≤ i); left(i) also upgrades dead(≤ i);
 * - nothing but a higher alive brings back a dead or left member, so replayed or late rumours
 *   (same or lower incarnation) cannot resurrect it;
 * - suspect/dead about unknown members are ignored (nothing to accuse);
 * - gossip about ourselves is never applied: anything that contradicts us is refuted.
 */
export function applyGossip(current: Member | undefined, msg: GossipMsg, self: SelfView, nowMs: number): Transition {
  if (msg.name === self.name) return applyAboutSelf(msg, self);
  switch (msg.type) {
    case 'alive':
      return applyAlive(current, msg, nowMs);
    case 'suspect':
      return applySuspect(current, msg, nowMs);
    case 'dead':
      return applyDead(current, msg, nowMs);
  }
}

function applyAboutSelf(msg: GossipMsg, self: SelfView): Transition {
  if (self.leaving) return NOTHING;
  if (msg.type === 'alive') {
    // An alive about us newer than what we announce is from a previous life of this node.
    return msg.incarnation > self.incarnation ? { refuteWith: msg.incarnation + 1 } : NOTHING;
  }
  if (msg.incarnation < self.incarnation) return msg.from === self.name ? NOTHING : { reassertTo: msg.from };
  return { refuteWith: msg.incarnation + 1 };
}

function applyAlive(current: Member | undefined, msg: GossipMsg & { type: 'alive' }, nowMs: number): Transition {
  const record = (state: MemberState): Member => ({
    name: msg.name,
    address: msg.address,
    meta: msg.meta,
    incarnation: msg.incarnation,
    state,
    stateChangeMs: nowMs,
    ...(msg.proof ? { proof: msg.proof } : {}),
  });
  if (!current) return { next: record('alive'), event: 'join', rebroadcast: true };
  if (msg.incarnation <= current.incarnation) return NOTHING;
  let event: MemberEventType | undefined;
  if (current.state === 'dead' || current.state === 'left') event = 'join';
  else if (current.state === 'suspect') event = 'alive';
  else if (current.address !== msg.address || !sameBytes(current.meta, msg.meta)) event = 'update';
  const next = record('alive');
  return { next: current.state === 'alive' ? { ...next, stateChangeMs: current.stateChangeMs } : next, event, rebroadcast: true };
}

function applySuspect(current: Member | undefined, msg: GossipMsg & { type: 'suspect' }, nowMs: number): Transition {
  if (!current || msg.incarnation < current.incarnation) return NOTHING;
  if (current.state === 'suspect') {
    if (msg.incarnation === current.incarnation) return { confirmFrom: msg.from };
    return { next: { ...current, incarnation: msg.incarnation }, rebroadcast: true, confirmFrom: msg.from };
  }
  if (current.state !== 'alive') return NOTHING;
  return { next: { ...current, incarnation: msg.incarnation, state: 'suspect', stateChangeMs: nowMs }, event: 'suspect', rebroadcast: true };
}

function applyDead(current: Member | undefined, msg: GossipMsg & { type: 'dead' }, nowMs: number): Transition {
  if (!current || msg.incarnation < current.incarnation) return NOTHING;
  const state: MemberState = msg.left ? 'left' : 'dead';
  if (current.state === 'left') return NOTHING;
  if (current.state === 'dead' && !msg.left) return NOTHING;
  // A leave is the member's own word: keep its proof so push-pull can pass the leave on.
  const proof = msg.left ? msg.proof : current.proof;
  return { next: { ...current, incarnation: msg.incarnation, state, stateChangeMs: nowMs, proof }, event: state, rebroadcast: true };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
