/**
 * One node of the radix tree, laid out for memory and for the insert path: the edge is a range of
 * a token slab shared by many nodes (no typed array per node); children are an array sorted by
 * key (scanned linearly when short, binary-searched when longer) until there are more than
 * CHILD_MAP_AT of them, then a Map (a sorted array costs ~8 bytes a child against a Map's ~45, but
 * its inserts move memory); owners are interned owner indices with their logical times, the first
 * inline and the rest in one flat array (most nodes, the leaves, have a single owner). Owner names
 * live in the tree (see RadixTree.ownerName).
 */
const EMPTY = new Uint32Array(0);

/** Past this many children a node keys them in a Map (an insert into the sorted array moves up to this many pointers). */
export const CHILD_MAP_AT = 512;
/** Up to this many children a linear scan beats a binary search. */
const SCAN_AT = 8;

export class RadixNode {
  /** First token of the edge: the key the parent finds this node by (kept here to scan children without touching the slab). */
  key = 0;
  /** The edge is `store[start, start + len)`; `store` is a slab shared with other nodes. */
  store: Uint32Array = EMPTY;
  start = 0;
  len = 0;
  parent: RadixNode | undefined = undefined;
  kids: RadixNode[] | undefined = undefined;
  kidMap: Map<number, RadixNode> | undefined = undefined;
  /** First owner's interned index (-1: none) and its last use on the tree's logical clock. */
  owner = -1;
  time = 0;
  /** Further owners as flat `[owner, time, owner, time, ...]` pairs. */
  more: number[] | undefined = undefined;

  /** A copy-free view of the edge (allocates a view: for codecs, digests and tests, not the hot path). */
  get edge(): Uint32Array {
    return this.store.subarray(this.start, this.start + this.len);
  }

  get isLeaf(): boolean {
    return this.kidMap ? this.kidMap.size === 0 : !this.kids || this.kids.length === 0;
  }

  get childCount(): number {
    return this.kidMap ? this.kidMap.size : (this.kids?.length ?? 0);
  }

  child(key: number): RadixNode | undefined {
    if (this.kidMap) return this.kidMap.get(key);
    const kids = this.kids;
    if (!kids) return undefined;
    if (kids.length <= SCAN_AT) {
      for (let k = 0; k < kids.length; k++) if (kids[k].key === key) return kids[k];
      return undefined;
    }
    const at = lowerBound(kids, key);
    return at < kids.length && kids[at].key === key ? kids[at] : undefined;
  }

  forEachChild(visit: (child: RadixNode) => void): void {
    if (this.kidMap) this.kidMap.forEach(visit);
    else this.kids?.forEach(visit);
  }

  /** Children sorted by key (stable order for codecs and digests). */
  sortedChildren(): RadixNode[] {
    if (!this.kidMap) return this.kids ? this.kids.slice() : [];
    return [...this.kidMap.values()].sort((a, b) => a.key - b.key);
  }

  onlyChild(): RadixNode | undefined {
    if (this.childCount !== 1) return undefined;
    return this.kidMap ? (this.kidMap.values().next().value as RadixNode) : this.kids![0];
  }

  addChild(c: RadixNode): void {
    c.parent = this;
    if (this.kidMap) {
      this.kidMap.set(c.key, c);
      return;
    }
    const kids = this.kids;
    if (!kids) {
      this.kids = [c];
      return;
    }
    const at = lowerBound(kids, c.key);
    if (at === kids.length) kids.push(c);
    else kids.splice(at, 0, c);
    if (kids.length > CHILD_MAP_AT) {
      this.kidMap = new Map();
      for (const k of kids) this.kidMap.set(k.key, k);
      this.kids = undefined;
    }
  }

  /** Puts `replacement` where `old` was (same key): a split's new head takes its tail's place. */
  replaceChild(old: RadixNode, replacement: RadixNode): void {
    replacement.parent = this;
    if (this.kidMap) this.kidMap.set(replacement.key, replacement);
    else this.kids![lowerBound(this.kids!, old.key)] = replacement;
  }

  removeChild(c: RadixNode): void {
    if (this.kidMap) {
      this.kidMap.delete(c.key);
      return;
    }
    const kids = this.kids!;
    const at = lowerBound(kids, c.key);
    if (kids[at] === c) kids.splice(at, 1);
  }

  /** Takes over `from`'s children (a merge folding `from` into this node). */
  adoptChildrenOf(from: RadixNode): void {
    this.kids = from.kids;
    this.kidMap = from.kidMap;
    this.forEachChild((c) => (c.parent = this));
  }

  /** The owner's last use at this node, or -1 if it does not hold the node. */
  timeOf(owner: number): number {
    if (this.owner === owner) return this.time;
    const more = this.more;
    if (more) for (let k = 0; k < more.length; k += 2) if (more[k] === owner) return more[k + 1];
    return -1;
  }

  /** Records a use by `owner` at `t`; times only move forward (max), so replays change nothing. */
  touch(owner: number, t: number): void {
    if (this.owner === owner) {
      if (t > this.time) this.time = t;
      return;
    }
    if (this.owner === -1) {
      this.owner = owner;
      this.time = t;
      return;
    }
    const more = this.more;
    if (!more) {
      this.more = [owner, t];
      return;
    }
    for (let k = 0; k < more.length; k += 2) {
      if (more[k] === owner) {
        if (t > more[k + 1]) more[k + 1] = t;
        return;
      }
    }
    more.push(owner, t);
  }

  /** Forgets `owner` here; returns whether it held the node. */
  drop(owner: number): boolean {
    const more = this.more;
    if (this.owner === owner) {
      if (more && more.length > 0) {
        this.time = more.pop()!;
        this.owner = more.pop()!;
        if (more.length === 0) this.more = undefined;
      } else {
        this.owner = -1;
        this.time = 0;
      }
      return true;
    }
    if (!more) return false;
    for (let k = 0; k < more.length; k += 2) {
      if (more[k] !== owner) continue;
      more.splice(k, 2);
      if (more.length === 0) this.more = undefined;
      return true;
    }
    return false;
  }

  get ownerCount(): number {
    return this.owner === -1 ? 0 : 1 + (this.more ? this.more.length / 2 : 0);
  }

  forEachOwner(visit: (owner: number, time: number) => void): void {
    if (this.owner === -1) return;
    visit(this.owner, this.time);
    const more = this.more;
    if (more) for (let k = 0; k < more.length; k += 2) visit(more[k], more[k + 1]);
  }

  /** Latest use by any owner (what LRU eviction orders leaves by). */
  lastUsed(): number {
    let t = this.owner === -1 ? 0 : this.time;
    const more = this.more;
    if (more) for (let k = 1; k < more.length; k += 2) if (more[k] > t) t = more[k];
    return t;
  }

  /** Same owners with the same times (order aside): two such nodes in a chain carry no more than one. */
  sameOwnersAs(other: RadixNode): boolean {
    if (this.ownerCount !== other.ownerCount) return false;
    if (this.owner !== -1 && other.timeOf(this.owner) !== this.time) return false;
    const more = this.more;
    if (more) for (let k = 0; k < more.length; k += 2) if (other.timeOf(more[k]) !== more[k + 1]) return false;
    return true;
  }

  copyOwnersFrom(from: RadixNode): void {
    this.owner = from.owner;
    this.time = from.time;
    this.more = from.more?.slice();
  }
}

/** First index in `kids` (sorted by key) whose key is not below `key`. */
function lowerBound(kids: readonly RadixNode[], key: number): number {
  let lo = 0;
  let hi = kids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (kids[mid].key < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
