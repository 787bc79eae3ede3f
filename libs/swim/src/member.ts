export type MemberState = 'alive' | 'suspect' | 'dead' | 'left';

/**
 * What one node believes about one member. Records are immutable: every change makes a new one,
 * so views handed to callers never change under them.
 */
export interface Member {
  readonly name: string;
  readonly address: string;
  readonly meta: Uint8Array;
  readonly incarnation: number;
  readonly state: MemberState;
  /** Clock time of the last state change (for reaping). */
  readonly stateChangeMs: number;
  /** With identities: the member's own proof of this record (its alive, or its leave). */
  readonly proof?: Uint8Array;
}

export function isLive(state: MemberState): boolean {
  return state === 'alive' || state === 'suspect';
}
