import { hashString32, type Rng } from '@drover/runtime';
import { isLive, type Member } from './member';

/**
 * One node's member table with the indexes the protocol needs in O(1): a dense array of live
 * members for random sampling, the set of down (dead/left) members for reaping and reconnects,
 * and an order-independent digest of (name, incarnation, up/down) for cheap anti-entropy checks.
 * Reaped members stay as tombstones (not listed, not digested) so stale rumours stay stale.
 */
export class MemberList {
  private readonly byName = new Map<string, Member>();
  private readonly reaped = new Set<string>();
  private readonly live: string[] = [];
  private readonly liveIndex = new Map<string, number>();
  private readonly down = new Set<string>();
  private digestSum = 0;
  private listedCount = 0;
  private liveNamesSum = 0;
  private suspects = 0;

  get(name: string): Member | undefined {
    return this.byName.get(name);
  }

  isReaped(name: string): boolean {
    return this.reaped.has(name);
  }

  /** Members not reaped (live + recently down): the n in the protocol's formulas. */
  get size(): number {
    return this.listedCount;
  }

  get liveCount(): number {
    return this.live.length;
  }

  /** Order-independent hash of the set of live member names (cheap convergence checks). */
  get liveSetDigest(): number {
    return this.liveNamesSum >>> 0;
  }

  get suspectCount(): number {
    return this.suspects;
  }

  /** Order-independent digest of the listed members (equal tables give equal digests). */
  get digest(): number {
    return this.digestSum >>> 0;
  }

  liveNames(): readonly string[] {
    return this.live;
  }

  /** Dead and left members not yet reaped. */
  downNames(): ReadonlySet<string> {
    return this.down;
  }

  /** Reaped members whose record is kept as a tombstone. */
  tombstoneNames(): ReadonlySet<string> {
    return this.reaped;
  }

  /** Every record including tombstones (for push-pull). */
  all(): IterableIterator<Member> {
    return this.byName.values();
  }

  /** Listed (non-reaped) records. */
  listed(): Member[] {
    const out: Member[] = [];
    for (const m of this.byName.values()) if (!this.reaped.has(m.name)) out.push(m);
    return out;
  }

  set(member: Member): void {
    const old = this.byName.get(member.name);
    if (old?.state === 'suspect') this.suspects--;
    if (member.state === 'suspect') this.suspects++;
    if (old && !this.reaped.has(old.name)) this.digestSum -= entryHash(old);
    if (!old || this.reaped.has(member.name)) this.listedCount++;
    this.reaped.delete(member.name);
    this.byName.set(member.name, member);
    this.digestSum += entryHash(member);
    this.digestSum >>>= 0;
    if (isLive(member.state)) {
      this.down.delete(member.name);
      if (!this.liveIndex.has(member.name)) {
        this.liveNamesSum = (this.liveNamesSum + hashString32(member.name)) >>> 0;
        this.liveIndex.set(member.name, this.live.length);
        this.live.push(member.name);
      }
    } else {
      this.removeLive(member.name);
      this.down.add(member.name);
    }
  }

  /** Unlists a down member but keeps its record as a tombstone. */
  reap(name: string): void {
    const m = this.byName.get(name);
    if (!m || this.reaped.has(name) || isLive(m.state)) return;
    this.reaped.add(name);
    this.down.delete(name);
    this.digestSum = (this.digestSum - entryHash(m)) >>> 0;
    this.listedCount--;
  }

  /** Forgets a member completely (tombstone expiry). */
  forget(name: string): void {
    const m = this.byName.get(name);
    if (!m) return;
    if (!this.reaped.has(name)) {
      this.digestSum = (this.digestSum - entryHash(m)) >>> 0;
      this.listedCount--;
    }
    if (m.state === 'suspect') this.suspects--;
    this.reaped.delete(name);
    this.removeLive(name);
    this.down.delete(name);
    this.byName.delete(name);
  }

  /**
   * Up to k distinct random live members other than the excluded ones. Sampling by index keeps it
   * O(k) however large the cluster.
   */
  randomLive(rng: Rng, k: number, exclude: (name: string) => boolean): string[] {
    const out: string[] = [];
    const n = this.live.length;
    if (k <= 0 || n === 0) return out;
    if (n <= k * 3) {
      // Small table: shuffle a filtered copy.
      const candidates = this.live.filter((name) => !exclude(name));
      rng.shuffle(candidates);
      return candidates.slice(0, k);
    }
    for (let tries = 0; tries < k * 6 && out.length < k; tries++) {
      const name = this.live[rng.int(n)];
      if (!exclude(name) && !out.includes(name)) out.push(name);
    }
    return out;
  }

  private removeLive(name: string): void {
    const index = this.liveIndex.get(name);
    if (index === undefined) return;
    this.liveNamesSum = (this.liveNamesSum - hashString32(name)) >>> 0;
    const last = this.live.pop()!;
    if (last !== name) {
      this.live[index] = last;
      this.liveIndex.set(last, index);
    }
    this.liveIndex.delete(name);
  }
}

/** Alive and suspect hash alike: suspicion is transient and settles either way. */
function entryHash(m: Member): number {
  return hashString32(`${m.name}\u0000${m.incarnation}\u0000${isLive(m.state) ? 'up' : 'down'}`);
}
