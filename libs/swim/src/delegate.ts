import type { Clock, Logger, Metrics, PacketTransport, Rng, Timers } from '@drover/runtime';
import type { Member } from './member';
import type { MemberEventType } from './membership';

/**
 * How the layer above (state sync) rides on SWIM, after memberlist's Delegate. Every method is
 * optional and synchronous.
 */
export interface SwimDelegate {
  /** Extra gossip to piggyback, at most `limitBytes` in total (each payload arrives via notifyMsg). */
  getBroadcasts?(limitBytes: number): Uint8Array[];
  /** A payload another node's delegate broadcast. */
  notifyMsg?(payload: Uint8Array): void;
  /** State to send in a push-pull exchange (`join`: the exchange is a join). */
  localState?(join: boolean): Uint8Array | undefined;
  /** State received in a push-pull exchange. */
  mergeRemoteState?(state: Uint8Array, join: boolean): void;
}

/** The injected world of a SwimNode (ARCHITECTURE §3). */
export interface SwimDeps {
  clock: Clock;
  timers: Timers;
  rng: Rng;
  transport: PacketTransport;
  log?: Logger;
  metrics?: Metrics;
  delegate?: SwimDelegate;
}

export interface MemberEvent {
  type: MemberEventType;
  member: Member;
}

export type MemberEventListener = (event: MemberEvent) => void;

/** Counter of dropped or rejected traffic, by reason (ARCHITECTURE §4). */
export const DROPPED_METRIC = 'drover_mesh_dropped_messages_total';

export type DropReason =
  | 'unauthenticated'
  | 'decrypt_failed'
  /** An exact copy of a packet already opened (within the replay window). */
  | 'replayed'
  | 'bad_envelope'
  | 'malformed'
  | 'unknown_type'
  | 'oversize'
  | 'wrong_target'
  | 'handler_error'
  | 'not_running'
  /** With identities: no valid proof by the node the message claims to come from. */
  | 'forged_sender';
