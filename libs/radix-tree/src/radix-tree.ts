import { treeDigest } from './digest';
import { DEFAULT_TREE_BUDGET_TOKENS } from './limits';

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

export interface TreeStats {
  nodes: number;
  tokens: number;
  evictions: number;
  owners: number;
}

export class RadixNode {
  children: Map<number, RadixNode> | undefined;
  /** owner → last use (logical time). Owners of a node also own every ancestor. */
  owners = new Map<string, number>();

  constructor(
    public edge: Uint32Array,
    public parent: RadixNode | undefined,
  ) {}

  lastUsed(): number {
    let t = 0;
    for (const v of this.owners.values()) if (v > t) t = v;
    return t;
  }

  get isLeaf(): boolean {
    return !this.children || this.children.size === 0;
  }
}

export class RadixTree {
  readonly root = new RadixNode(new Uint32Array(0), undefined);
  private clock = 0;
  private tokenCount = 0;
  private nodeCount = 1;
  private evicted = 0;
  /**
   * owner → logical time of its latest removal. An insert for that owner at or before that time
   * is stale (it happened before the removal, whatever order the ops arrive in), so it is
   * ignored: removals and inserts commute.
   */
  private readonly removedAt = new Map<string, number>();

  constructor(readonly budgetTokens = DEFAULT_TREE_BUDGET_TOKENS) {}

  /** The tree's logical clock: every insert without an explicit time ticks it. */
  get now(): number {
    return this.clock;
  }

  stats(): TreeStats {
    const owners = new Set<string>();
    this.walk((n) => n.owners.forEach((_, o) => owners.add(o)));
    return { nodes: this.nodeCount, tokens: this.tokenCount, evictions: this.evicted, owners: owners.size };
  }

  get tokens(): number {
    return this.tokenCount;
  }

  get nodes(): number {
    return this.nodeCount;
  }

  get evictions(): number {
    return this.evicted;
  }

  /**
   * Records that `owner` holds `seq`, at logical `time` (default: next tick). Times only move
   * forward per node (max), so replaying or reordering inserts gives the same tree.
   */
  insert(seq: ArrayLike<number>, owner: string, time?: number): void {
    const t = time ?? ++this.clock;
    if (t > this.clock) this.clock = t;
    if (t <= (this.removedAt.get(owner) ?? -1)) return;
    let node = this.root;
    touch(node, owner, t);
    let i = 0;
    while (i < seq.length) {
      const child = node.children?.get(seq[i]);
      if (!child) {
        const leaf = new RadixNode(copyTail(seq, i), node);
        (node.children ??= new Map()).set(seq[i], leaf);
        this.nodeCount++;
        this.tokenCount += leaf.edge.length;
        touch(leaf, owner, t);
        break;
      }
      const common = commonPrefix(child.edge, seq, i);
      if (common < child.edge.length) this.split(child, common);
      const next = node.children!.get(seq[i])!;
      touch(next, owner, t);
      node = next;
      i += common;
    }
    if (this.tokenCount > this.budgetTokens) this.evict();
  }

  match(seq: ArrayLike<number>): MatchResult {
    const perOwner = new Map<string, number>();
    const lastUse = new Map<string, number>();
    let node = this.root;
    let depth = 0;
    let i = 0;
    while (i < seq.length) {
      const child = node.children?.get(seq[i]);
      if (!child) break;
      const common = commonPrefix(child.edge, seq, i);
      depth += common;
      for (const [o, t] of child.owners) {
        perOwner.set(o, depth);
        lastUse.set(o, t);
      }
      if (common < child.edge.length) break;
      node = child;
      i += common;
    }
    let best: string | undefined;
    let bestLen = 0;
    let bestTime = -1;
    for (const [o, len] of perOwner) {
      const t = lastUse.get(o)!;
      if (len > bestLen || (len === bestLen && t > bestTime)) {
        best = o;
        bestLen = len;
        bestTime = t;
      }
    }
    return { length: bestLen, best, perOwner };
  }

  /**
   * Forgets what `owner` held up to logical `time` (default: now, i.e. everything); nodes nobody
   * owns any more are reclaimed, and chains left without a branch are merged back into one edge.
   * Paths the owner used after `time` stay (they were inserted after the removal).
   */
  removeOwner(owner: string, time?: number): void {
    const t = time ?? ++this.clock;
    if (t > this.clock) this.clock = t;
    if (t > (this.removedAt.get(owner) ?? -1)) this.removedAt.set(owner, t);
    const prune = (node: RadixNode): void => {
      const held = node.owners.get(owner);
      // Owners of a node own every ancestor, so a subtree without the owner can be skipped.
      if (held === undefined) return;
      if (node.children) for (const child of [...node.children.values()]) prune(child);
      if (held <= t) node.owners.delete(owner);
      if (node === this.root) return;
      if (node.owners.size === 0 && node.isLeaf) this.detach(node);
      else this.mergeOnlyChild(node);
    };
    prune(this.root);
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
      if (!node.children) return;
      for (const key of [...node.children.keys()].sort((a, b) => a - b)) go(node.children.get(key)!, depth + 1);
    };
    go(this.root, 0);
  }

  /** Every (sequence, owner, time) the tree holds at its leaves of ownership (for tests and codecs). */
  entries(): { seq: number[]; owner: string; time: number }[] {
    const out: { seq: number[]; owner: string; time: number }[] = [];
    const go = (node: RadixNode, prefix: number[]): void => {
      const seq = [...prefix, ...node.edge];
      for (const [owner, time] of node.owners) {
        const deeper = node.children && [...node.children.values()].some((c) => c.owners.has(owner));
        if (!deeper && node !== this.root) out.push({ seq, owner, time });
      }
      node.children?.forEach((c) => go(c, seq));
    };
    go(this.root, []);
    return out;
  }

  /** Attaches a node built elsewhere (snapshot decoding). */
  adoptChild(parent: RadixNode, child: RadixNode): void {
    (parent.children ??= new Map()).set(child.edge[0], child);
    this.nodeCount++;
    this.tokenCount += child.edge.length;
    for (const t of child.owners.values()) if (t > this.clock) this.clock = t;
  }

  private split(node: RadixNode, at: number): void {
    const parent = node.parent!;
    const head = new RadixNode(node.edge.subarray(0, at).slice(), parent);
    head.owners = new Map(node.owners);
    node.edge = node.edge.subarray(at).slice();
    node.parent = head;
    head.children = new Map([[node.edge[0], node]]);
    parent.children!.set(head.edge[0], head);
    this.nodeCount++;
  }

  /** Folds a lone child into `node` when both have the same owners and times (no information is lost). */
  private mergeOnlyChild(node: RadixNode): void {
    if (node.children?.size !== 1) return;
    const child = node.children.values().next().value as RadixNode;
    if (!sameOwners(node.owners, child.owners)) return;
    const edge = new Uint32Array(node.edge.length + child.edge.length);
    edge.set(node.edge);
    edge.set(child.edge, node.edge.length);
    node.edge = edge;
    node.children = child.children;
    node.children?.forEach((c) => (c.parent = node));
    this.nodeCount--;
  }

  private detach(node: RadixNode): void {
    node.parent?.children?.delete(node.edge[0]);
    this.nodeCount--;
    this.tokenCount -= node.edge.length;
  }

  /** Evicts least-recently-used leaves down to 95% of the budget (amortising the scan). */
  private evict(): void {
    const target = Math.floor(this.budgetTokens * 0.95);
    const leaves: RadixNode[] = [];
    this.walk((n) => {
      if (n !== this.root && n.isLeaf) leaves.push(n);
    });
    leaves.sort((a, b) => a.lastUsed() - b.lastUsed());
    // A parent that becomes a leaf joins the queue in time order.
    for (let k = 0; this.tokenCount > target && k < leaves.length; k++) {
      const leaf = leaves[k];
      const parent = leaf.parent!;
      this.detach(leaf);
      this.evicted++;
      if (parent !== this.root && parent.isLeaf) {
        const t = parent.lastUsed();
        let j = k + 1;
        while (j < leaves.length && leaves[j].lastUsed() < t) j++;
        leaves.splice(j, 0, parent);
      }
    }
  }
}

function touch(node: RadixNode, owner: string, t: number): void {
  const prev = node.owners.get(owner);
  if (prev === undefined || prev < t) node.owners.set(owner, t);
}

export function sameOwners(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): boolean {
  if (a.size !== b.size) return false;
  for (const [o, t] of a) if (b.get(o) !== t) return false;
  return true;
}

function copyTail(seq: ArrayLike<number>, from: number): Uint32Array {
  if (seq instanceof Uint32Array) return seq.slice(from);
  const out = new Uint32Array(seq.length - from);
  for (let k = 0; k < out.length; k++) out[k] = seq[from + k];
  return out;
}

function commonPrefix(edge: Uint32Array, seq: ArrayLike<number>, from: number): number {
  const n = Math.min(edge.length, seq.length - from);
  let k = 0;
  while (k < n && edge[k] === seq[from + k]) k++;
  return k;
}
