import { treeDigest } from './digest';
import { DEFAULT_TREE_BUDGET_TOKENS } from './limits';
import { evictLeastRecentlyUsed } from './lru-eviction';
import { RadixNode } from './radix-node';
import { TokenSlab } from './token-slab';

export { RadixNode } from './radix-node';

/**
 * A compressed radix tree over uint32 sequences (token ids, or chained block hashes) recording
 * which owners (workers) hold each path and when they last used it, on a logical clock owned by
 * the tree (never the wall clock). Memory is bounded by one budget in tokens for the whole tree
 * (all owners together): past it, least-recently-used leaves are evicted first, and a node with no
 * owner left is reclaimed.
 */
export interface MatchResult {
  /** Longest matched length over all owners. */
  length: number;
  /** Owner with the longest match (ties: most recently used). */
  best: string | undefined;
  /** Matched length per owner (only owners with a non-zero match). */
  perOwner: Map<string, number>;
}

/**
 * Where a match stopped: the deepest node the sequence matched to its end, so recording the same
 * sequence continues from there instead of walking from the root again. Valid while the tree has
 * had no destructive change (eviction, removal, withdrawal, merge) since the match; `recordFrom`
 * checks that and falls back to a full insert otherwise.
 */
export interface MatchCursor {
  readonly tree: RadixTree;
  readonly seq: ArrayLike<number>;
  readonly node: RadixNode;
  /** Tokens of `seq` matched down to the end of `node`'s edge. */
  readonly depth: number;
  readonly version: number;
}

export interface TreeMatch extends MatchResult {
  cursor: MatchCursor;
}

/** What `recordFrom` did, enough to withdraw it again. */
export interface Recorded {
  time: number;
  /** How much of the sequence the owner already held before (a withdrawal keeps that much). */
  heldBefore: number;
}

export interface TreeStats {
  nodes: number;
  tokens: number;
  evictions: number;
  owners: number;
}

/** Withdrawals remembered so that their insert, arriving late (a reordered op), is cut back on arrival. */
const MAX_WITHDRAWALS = 4096;

export class RadixTree {
  readonly root = new RadixNode();
  private clock = 0;
  private tokenCount = 0;
  private nodeCount = 1;
  private evicted = 0;
  /** Bumped by every change that can invalidate a cursor (a node detached, or an edge extended by a merge). */
  private version = 0;
  /** Bumped by every call that may change content (what a digest covers); digests cache on it. */
  private changeCount = 0;
  private readonly slab = new TokenSlab();
  /** Owner names interned to small indices (a node stores indices); freed indices are reused. */
  private readonly ownerIds = new Map<string, number>();
  private readonly ownerNames: string[] = [];
  private readonly freeOwnerIds: number[] = [];
  /** Per-owner scratch for `match` (indexed by owner index; no Map per match). */
  private matchDepth: number[] = [];
  private matchTime: number[] = [];
  /**
   * owner → logical time of its latest removal. An insert for that owner at or before that time
   * is stale (it happened before the removal, whatever order the ops arrive in), so it is
   * ignored: removals and inserts commute.
   */
  private readonly removedAt = new Map<string, number>();
  /** Insert time → the withdrawal of that insert (owner, and how much of it stays). */
  private readonly withdrawals = new Map<number, { owner: string; keepLen: number }>();

  constructor(readonly budgetTokens = DEFAULT_TREE_BUDGET_TOKENS) {}

  /** The tree's logical clock: every insert without an explicit time ticks it. */
  get now(): number {
    return this.clock;
  }

  stats(): TreeStats {
    const owners = new Set<number>();
    this.walk((n) => n.forEachOwner((o) => owners.add(o)));
    return { nodes: this.nodeCount, tokens: this.tokenCount, evictions: this.evicted, owners: owners.size };
  }

  get tokens(): number {
    return this.tokenCount;
  }

  /** Changes when the content may have changed: a cached digest taken at another count is stale. */
  get changes(): number {
    return this.changeCount;
  }

  get nodes(): number {
    return this.nodeCount;
  }

  get evictions(): number {
    return this.evicted;
  }

  /** The name behind an interned owner index (as stored on nodes). */
  ownerName(index: number): string {
    return this.ownerNames[index];
  }

  /** A node's owners by name with their logical times. */
  ownersOf(node: RadixNode): Map<string, number> {
    const out = new Map<string, number>();
    node.forEachOwner((o, t) => out.set(this.ownerNames[o], t));
    return out;
  }

  /**
   * Records that `owner` holds `seq`, at logical `time` (default: next tick). Times only move
   * forward per node (max), so replaying or reordering inserts gives the same tree.
   */
  insert(seq: ArrayLike<number>, owner: string, time?: number): void {
    this.changeCount++;
    this.recordAt(seq, owner, time, this.root, 0);
  }

  /**
   * Longest match per owner, plus a cursor for `recordFrom`. One walk from the root; no per-step
   * allocation (owner bookkeeping goes to per-owner scratch arrays).
   */
  match(seq: ArrayLike<number>): TreeMatch {
    const depthOf = this.matchDepth;
    const timeOf = this.matchTime;
    let node = this.root;
    let first: RadixNode | undefined;
    let i = 0;
    let matched = 0;
    while (i < seq.length) {
      const child = node.child(seq[i]);
      if (!child) break;
      const common = commonPrefix(child, seq, i);
      matched = i + common;
      first ??= child;
      if (child.owner !== -1) {
        depthOf[child.owner] = matched;
        timeOf[child.owner] = child.time;
        const more = child.more;
        if (more) {
          for (let k = 0; k < more.length; k += 2) {
            depthOf[more[k]] = matched;
            timeOf[more[k]] = more[k + 1];
          }
        }
      }
      if (common < child.len) break;
      node = child;
      i = matched;
    }
    const perOwner = new Map<string, number>();
    let best: string | undefined;
    let bestLen = 0;
    let bestTime = -1;
    // Every owner of a deeper node owns `first` too, so its owners are all the owners matched;
    // each one's scratch entry was written at `first` or deeper during this walk.
    first?.forEachOwner((o) => {
      const len = depthOf[o];
      const t = timeOf[o];
      const name = this.ownerNames[o];
      perOwner.set(name, len);
      if (len > bestLen || (len === bestLen && t > bestTime)) {
        best = name;
        bestLen = len;
        bestTime = t;
      }
    });
    return { length: bestLen, best, perOwner, cursor: { tree: this, seq, node, depth: i, version: this.version } };
  }

  /**
   * Records that `owner` holds the cursor's sequence, continuing from where `match` stopped (its
   * ancestors are touched through parent links, no token is compared twice). A cursor from another
   * tree, or one that a destructive change made stale, falls back to a full insert.
   */
  recordFrom(cursor: MatchCursor, owner: string, time?: number): Recorded {
    this.changeCount++;
    if (cursor.tree !== this || cursor.version !== this.version) return this.recordAt(cursor.seq, owner, time, this.root, 0);
    return this.recordAt(cursor.seq, owner, time, cursor.node, cursor.depth);
  }

  /**
   * Undoes `recordFrom`/`insert` of `seq` by `owner` at `time` past the first `keepLen` tokens
   * (what the owner held before: `Recorded.heldBefore`): nodes that only that insert gave the owner
   * lose it (and are reclaimed if nobody else holds them). Nodes the owner used again later keep
   * it; the kept prefix keeps the insert's time. Idempotent, and an insert arriving after its own
   * withdrawal (reordered ops) is cut to `keepLen` on arrival, so replicas converge.
   */
  withdraw(seq: ArrayLike<number>, owner: string, time: number, keepLen: number): void {
    this.changeCount++;
    if (time > this.clock) this.clock = time;
    this.withdrawals.set(time, { owner, keepLen });
    if (this.withdrawals.size > MAX_WITHDRAWALS) this.withdrawals.delete(this.withdrawals.keys().next().value as number);
    const o = this.ownerIds.get(owner);
    if (o === undefined) return;
    const path: RadixNode[] = [];
    let node = this.root;
    let i = 0;
    while (i < seq.length) {
      const child = node.child(seq[i]);
      if (!child) break;
      const common = commonPrefix(child, seq, i);
      if (common < child.len) break;
      // A node across the kept boundary (merged since) is split so the part past it can go.
      if (i < keepLen && i + common > keepLen && child.timeOf(o) === time) path.push(this.split(child, keepLen - i).parent!);
      path.push(child);
      node = child;
      i += common;
    }
    let end = i;
    for (let k = path.length - 1; k >= 0; k--) {
      const n = path[k];
      if (end <= keepLen || n.timeOf(o) !== time || this.anyChildHeldBy(n, o)) break;
      end -= n.len;
      n.drop(o);
      if (n.ownerCount === 0 && n.isLeaf) this.detach(n);
    }
    // Chains the withdrawal left without a branch are merged back (bottom-up).
    for (let k = path.length - 1; k >= 0; k--) if (path[k].parent && this.isAttached(path[k])) this.mergeOnlyChild(path[k]);
    this.releaseIfGone(o);
    if (this.slab.needsCompaction(this.tokenCount)) this.compact();
  }

  /**
   * Forgets what `owner` held up to logical `time` (default: now, i.e. everything); nodes nobody
   * owns any more are reclaimed, and chains left without a branch are merged back into one edge.
   * Paths the owner used after `time` stay (they were inserted after the removal).
   */
  removeOwner(owner: string, time?: number): void {
    this.changeCount++;
    const t = time ?? ++this.clock;
    if (t > this.clock) this.clock = t;
    if (t > (this.removedAt.get(owner) ?? -1)) this.removedAt.set(owner, t);
    const o = this.ownerIds.get(owner);
    if (o === undefined) return;
    const prune = (node: RadixNode): void => {
      const held = node.timeOf(o);
      // Owners of a node own every ancestor, so a subtree without the owner can be skipped.
      if (held === -1) return;
      if (!node.isLeaf) for (const child of node.sortedChildren()) prune(child);
      if (held <= t) node.drop(o);
      if (node === this.root) return;
      if (node.ownerCount === 0 && node.isLeaf) this.detach(node);
      else this.mergeOnlyChild(node);
    };
    prune(this.root);
    this.releaseIfGone(o);
    if (this.slab.needsCompaction(this.tokenCount)) this.compact();
  }

  /** `removeOwner` under the name the routing layer uses (owners are workers). */
  removeWorker(worker: string, time?: number): void {
    this.removeOwner(worker, time);
  }

  /** Content digest of what the tree holds (paths, owners, times), independent of how edges are split. */
  digest(): string {
    return treeDigest(this);
  }

  /** Visits every node depth-first, children in key order (stable for codecs and digests). */
  walk(visit: (node: RadixNode, depth: number) => void): void {
    const go = (node: RadixNode, depth: number): void => {
      visit(node, depth);
      if (!node.isLeaf) for (const child of node.sortedChildren()) go(child, depth + 1);
    };
    go(this.root, 0);
  }

  /** Every (sequence, owner, time) the tree holds at its leaves of ownership (for tests and codecs). */
  entries(): { seq: number[]; owner: string; time: number }[] {
    const out: { seq: number[]; owner: string; time: number }[] = [];
    const go = (node: RadixNode, prefix: number[]): void => {
      const seq = [...prefix, ...node.edge];
      node.forEachOwner((o, time) => {
        let deeper = false;
        node.forEachChild((c) => (deeper ||= c.timeOf(o) !== -1));
        if (!deeper && node !== this.root) out.push({ seq, owner: this.ownerNames[o], time });
      });
      node.forEachChild((c) => go(c, seq));
    };
    go(this.root, []);
    return out;
  }

  /** Appends a child holding a copy of `edge` under `parent` (snapshot decoding); owners are set with `setOwner`. */
  appendChild(parent: RadixNode, edge: ArrayLike<number>): RadixNode {
    this.changeCount++;
    const child = new RadixNode();
    this.slab.write(child, edge, 0, edge.length);
    parent.addChild(child);
    this.nodeCount++;
    this.tokenCount += child.len;
    return child;
  }

  /** Sets an owner's time on a node as decoded (no max, no clock tick beyond catching up). */
  setOwner(node: RadixNode, owner: string, time: number): void {
    this.changeCount++;
    node.touch(this.intern(owner), time);
    if (time > this.clock) this.clock = time;
  }

  private recordAt(seq: ArrayLike<number>, owner: string, time: number | undefined, from: RadixNode, fromDepth: number): Recorded {
    const t = time ?? ++this.clock;
    if (t > this.clock) this.clock = t;
    if (t <= (this.removedAt.get(owner) ?? -1)) return { time: t, heldBefore: 0 };
    if (this.withdrawals.size > 0) {
      const w = this.withdrawals.get(t);
      if (w && w.owner === owner && w.keepLen < seq.length) {
        // This insert was withdrawn before it arrived: only the kept prefix stays.
        seq = Array.prototype.slice.call(seq, 0, w.keepLen) as number[];
        if (fromDepth > seq.length) {
          from = this.root;
          fromDepth = 0;
        }
      }
    }
    const o = this.intern(owner);
    // Ancestors of the starting node: touched through parent links (a cursor starts below the root).
    let held = 0;
    let end = fromDepth;
    for (let n: RadixNode | undefined = from; n; n = n.parent) {
      if (held === 0 && n.timeOf(o) !== -1) held = end;
      n.touch(o, t);
      end -= n.len;
    }
    let node = from;
    let i = fromDepth;
    while (i < seq.length) {
      let child = node.child(seq[i]);
      if (!child) {
        const leaf = new RadixNode();
        this.slab.write(leaf, seq, i, seq.length - i);
        leaf.owner = o;
        leaf.time = t;
        node.addChild(leaf);
        this.nodeCount++;
        this.tokenCount += leaf.len;
        break;
      }
      const common = commonPrefix(child, seq, i);
      if (common < child.len) child = this.split(child, common).parent!;
      if (child.timeOf(o) !== -1) held = i + common;
      child.touch(o, t);
      node = child;
      i += common;
    }
    if (this.tokenCount > this.budgetTokens) this.evict();
    if (this.slab.needsCompaction(this.tokenCount)) this.compact();
    return { time: t, heldBefore: held };
  }

  private intern(owner: string): number {
    let o = this.ownerIds.get(owner);
    if (o === undefined) {
      o = this.freeOwnerIds.pop() ?? this.ownerNames.length;
      this.ownerIds.set(owner, o);
      this.ownerNames[o] = owner;
      this.matchDepth[o] = 0;
      this.matchTime[o] = 0;
    }
    return o;
  }

  /** An owner the root no longer lists holds nothing (owners of a node own every ancestor): its index is reused. */
  private releaseIfGone(o: number): void {
    if (this.root.timeOf(o) !== -1) return;
    const name = this.ownerNames[o];
    if (this.ownerIds.get(name) !== o) return;
    this.ownerIds.delete(name);
    this.freeOwnerIds.push(o);
  }

  /**
   * Cuts `node`'s edge after `at` tokens: a new head takes its place under the parent, and `node`
   * (now the tail) keeps its identity and where its edge ends, so cursors pointing at it stay valid.
   * Returns the tail (`node`); the head is its parent.
   */
  private split(node: RadixNode, at: number): RadixNode {
    const parent = node.parent!;
    const head = new RadixNode();
    head.store = node.store;
    head.start = node.start;
    head.len = at;
    head.key = node.key;
    head.copyOwnersFrom(node);
    parent.replaceChild(node, head);
    node.start += at;
    node.len -= at;
    node.key = node.store[node.start];
    head.addChild(node);
    this.nodeCount++;
    return node;
  }

  /** Folds a lone child into `node` when both have the same owners and times (no information is lost). */
  private mergeOnlyChild(node: RadixNode): void {
    const child = node.onlyChild();
    if (!child || !node.sameOwnersAs(child)) return;
    if (child.store === node.store && child.start === node.start + node.len) node.len += child.len;
    else this.slab.writeJoined(node, node.store, node.start, node.len, child.store, child.start, child.len);
    node.adoptChildrenOf(child);
    child.parent = undefined;
    this.nodeCount--;
    this.version++;
  }

  /** Unlinks `node` from its parent; its own parent link stays (a prefix index may still read its path). */
  private detach(node: RadixNode): void {
    node.parent?.removeChild(node);
    this.nodeCount--;
    this.tokenCount -= node.len;
    this.version++;
  }

  /** Whether `node` is still reachable from the root (a detached node keeps its parent link). */
  private isAttached(node: RadixNode): boolean {
    for (let n = node; n !== this.root; n = n.parent) if (!n.parent || n.parent.child(n.key) !== n) return false;
    return true;
  }

  private anyChildHeldBy(node: RadixNode, o: number): boolean {
    let held = false;
    node.forEachChild((c) => (held ||= c.timeOf(o) !== -1));
    return held;
  }

  /** Evicts least-recently-used leaves down to 95% of the budget (amortising the scan). */
  private evict(): void {
    const target = Math.floor(this.budgetTokens * 0.95);
    this.evicted += evictLeastRecentlyUsed(this.root, () => this.tokenCount > target, (leaf) => this.detach(leaf));
  }

  private compact(): void {
    this.slab.compact((visit) => {
      const stack: RadixNode[] = [this.root];
      while (stack.length > 0) {
        const n = stack.pop()!;
        visit(n);
        n.forEachChild((c) => stack.push(c));
      }
    });
  }
}

/** How many tokens of `node`'s edge equal `seq` from `from` on. */
function commonPrefix(node: RadixNode, seq: ArrayLike<number>, from: number): number {
  const store = node.store;
  const start = node.start;
  const n = Math.min(node.len, seq.length - from);
  let k = 0;
  while (k < n && store[start + k] === seq[from + k]) k++;
  return k;
}
