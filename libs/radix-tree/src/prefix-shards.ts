import { applyOp, decodeOps, encodeOps, type TreeOp } from './ops-codec';
import { RadixTree, type MatchCursor, type MatchResult } from './radix-tree';
import { decodeSnapshot, encodeSnapshot } from './snapshot-codec';
import { PrefixIndex } from './prefix-index';
import { treeDigest } from './digest';
import { hashPrefix, prefixKeys, prefixKey, PREFIX_STRIDE, rollPrefixHash, ROLLING_START, type PrefixHash, type RollingPrefixHash } from './prefix-hash';
import type { RadixNode } from './radix-tree';

/** A match over every shard; `cursor` points into the local shard (for `recordFrom`). */
export interface ShardsMatch extends MatchResult {
  cursor: MatchCursor;
}

/** A decision `recordFrom` recorded: what `withdraw` needs to take it back. */
export interface RecordedRoute {
  op: TreeOp;
  seq: Uint32Array;
  worker: string;
  time: number;
  /** How much of `seq` the worker held in the local shard before (a withdrawal keeps that much). */
  heldBefore: number;
}

/** Prefixes remembered per origin for resolving compact ops (oldest dropped first). */
const MAX_PREFIXES_PER_ORIGIN = 200_000;
/**
 * Compact ops held back because their base prefix had not arrived yet (a reference into a third
 * node's shard whose op is still on its way); applied as soon as the base is known, oldest dropped
 * past this bound.
 */
const MAX_PENDING_OPS = 10_000;
/** Key of this node's own prefixes in the index (origin names are node names, never this). */
const LOCAL = '\u0000local';

/**
 * The routing state of one model across a mesh: this node's own shard (the prefixes it routed)
 * and a replica of every peer's shard. Each shard is a tree bounded by the same token budget,
 * so memory is bounded by budget × mesh size. Shaped as @drover/crdt-sync's ShardAdapter, so the
 * sync channel can carry ops and snapshots without knowing trees.
 */
export class PrefixShards {
  readonly local: RadixTree;
  private readonly replicas = new Map<string, RadixTree>();
  /**
   * origin → prefix hash → a sequence starting with that prefix, or the tree node whose path does
   * (after a snapshot, so indexing copies nothing). Resolves `insert_ref` ops.
   */
  private readonly prefixes = new Map<string, PrefixIndex<Uint32Array | RadixNode>>();
  /**
   * Compact ops whose base prefix was unknown when they arrived. Each waits (bounded) for its base:
   * ops of different origins arrive in no common order, and a node may reference a prefix it
   * learned from a third node's shard. Only one dropped from the wait is a routing hint lost
   * (`droppedOps`), never wrong state.
   */
  unresolvedOps = 0;
  droppedOps = 0;
  /** prefix key → ops waiting for it, in arrival order (insertion order of the map is age). */
  private readonly pending = new Map<number, { origin: string; op: Extract<TreeOp, { kind: 'insert_ref' }> }[]>();
  private pendingCount = 0;
  /** Reused buffer for the prefix keys of the sequence being remembered. */
  private keyScratch: Int32Array = new Int32Array(64);

  constructor(readonly budgetTokens: number) {
    this.local = new RadixTree(budgetTokens);
  }

  /** Records a local routing decision; returns the op to append to this node's shard. */
  record(seq: ArrayLike<number>, worker: string): TreeOp {
    return this.recordFrom(this.match(seq), worker).op;
  }

  /**
   * Records a routing decision for the prompt `match` was called on, without walking the trees
   * again: what the mesh already knows of it comes from the match, and the local shard continues
   * from the match's cursor (a full insert if the shard changed destructively meanwhile). Returns
   * the op to append to this node's shard and what `withdraw` needs to undo it.
   */
  recordFrom(match: ShardsMatch, worker: string): RecordedRoute {
    const seq = match.cursor.seq instanceof Uint32Array ? match.cursor.seq.slice() : Uint32Array.from(match.cursor.seq);
    const time = this.local.now + 1;
    // What the mesh already knows of the prompt (a shared system prompt, the conversation so far,
    // whichever node routed it) travels as a hash; peers resolve it against the ops they hold.
    const baseLen = match.length - (match.length % PREFIX_STRIDE);
    const op: TreeOp = { kind: 'insert', seq, owner: worker, time, baseLen };
    const { heldBefore } = this.local.recordFrom(match.cursor, worker, time);
    this.remember(LOCAL, seq);
    return { op, seq, worker, time, heldBefore };
  }

  /**
   * Withdraws a recorded decision whose request failed before its first token: the worker keeps
   * only what it held before (see RadixTree.withdraw). Returns the op to append to this node's shard
   * so that peers withdraw it from their replica too.
   */
  withdraw(recorded: RecordedRoute): TreeOp {
    const op: TreeOp = { kind: 'withdraw', seq: recorded.seq, owner: recorded.worker, time: recorded.time, keepLen: recorded.heldBefore };
    this.local.withdraw(op.seq, op.owner, op.time, op.keepLen);
    return op;
  }

  /** Forgets a worker everywhere (it left the registry). */
  removeWorker(worker: string): TreeOp {
    const op: TreeOp = { kind: 'remove_owner', owner: worker, time: this.local.now + 1 };
    this.local.removeOwner(worker, op.time);
    // In a peer's shard the removal covers what that peer reported so far; its later ops (a
    // worker that came back) still apply.
    for (const r of this.replicas.values()) r.removeOwner(worker, r.now);
    return op;
  }

  /** Longest match per worker over every shard, with a cursor into the local shard for `recordFrom`. */
  match(seq: ArrayLike<number>): ShardsMatch {
    const merged = this.local.match(seq);
    for (const replica of this.replicas.values()) {
      const m = replica.match(seq);
      for (const [w, len] of m.perOwner) if (len > (merged.perOwner.get(w) ?? 0)) merged.perOwner.set(w, len);
      if (m.length > merged.length) {
        merged.length = m.length;
        merged.best = m.best;
      }
    }
    return merged;
  }

  dropOrigin(origin: string): void {
    this.replicas.delete(origin);
    this.prefixes.delete(origin);
    // Its ops still waiting for a base would otherwise recreate the replica when the base arrives.
    this.dropPending(origin);
  }

  private dropPending(origin: string): void {
    if (this.pendingCount === 0) return;
    for (const [key, ops] of this.pending) {
      const kept = ops.filter((p) => p.origin !== origin);
      this.pendingCount -= ops.length - kept.length;
      if (kept.length === 0) this.pending.delete(key);
      else this.pending.set(key, kept);
    }
  }

  origins(): string[] {
    return [...this.replicas.keys()];
  }

  replica(origin: string): RadixTree | undefined {
    return this.replicas.get(origin);
  }

  stats(): { nodes: number; tokens: number; evictions: number; shards: number } {
    let nodes = this.local.nodes;
    let tokens = this.local.tokens;
    let evictions = this.local.evictions;
    for (const r of this.replicas.values()) {
      nodes += r.nodes;
      tokens += r.tokens;
      evictions += r.evictions;
    }
    return { nodes, tokens, evictions, shards: this.replicas.size + 1 };
  }

  digestOf(origin: string | 'local'): string {
    const tree = origin === 'local' ? this.local : this.replicas.get(origin);
    if (!tree || (tree.tokens === 0 && tree.root.childCount === 0)) return 'empty';
    const cached = this.digests.get(tree);
    if (cached && cached.changes === tree.changes) return cached.digest;
    const digest = treeDigest(tree);
    this.digests.set(tree, { changes: tree.changes, digest });
    return digest;
  }

  /** Content digests by tree, valid while the tree's change count stays the same. */
  private readonly digests = new WeakMap<RadixTree, { changes: number; digest: string }>();

  /** ShardAdapter: this node's own shard (no origin) or its replica of `origin`'s. */
  contentDigest(origin?: string): string {
    return this.digestOf(origin === undefined ? 'local' : origin);
  }

  // ShardAdapter<TreeOp>
  encodeOps(ops: readonly TreeOp[]): Uint8Array {
    return encodeOps(ops);
  }

  decodeOps(bytes: Uint8Array, maxOps: number): TreeOp[] | undefined {
    return decodeOps(bytes, maxOps);
  }

  applyOp(origin: string, op: TreeOp): void {
    let r = this.replicas.get(origin);
    if (!r) {
      r = new RadixTree(this.budgetTokens);
      this.replicas.set(origin, r);
    }
    if (op.kind === 'insert_ref') {
      const seq = this.resolve(origin, op.base, op.baseLen, op.suffix);
      if (!seq) {
        this.unresolvedOps++;
        this.park(origin, op);
        return;
      }
      op = { kind: 'insert', seq, owner: op.owner, time: op.time };
    }
    if (op.kind === 'insert') this.remember(origin, op.seq);
    applyOp(r, op);
  }

  /** Ops still waiting for their base prefix. */
  get pendingOps(): number {
    return this.pendingCount;
  }

  private park(origin: string, op: Extract<TreeOp, { kind: 'insert_ref' }>): void {
    const key = prefixKey(op.base);
    const list = this.pending.get(key) ?? [];
    list.push({ origin, op });
    this.pending.set(key, list);
    this.pendingCount++;
    while (this.pendingCount > MAX_PENDING_OPS) {
      const [oldest, ops] = this.pending.entries().next().value as [number, unknown[]];
      ops.shift();
      this.pendingCount--;
      this.droppedOps++;
      if (ops.length === 0) this.pending.delete(oldest);
    }
  }

  /** Applies the ops that were waiting for any of `keys` (ops are commutative: late is fine). */
  private release(keys: Iterable<number>): void {
    if (this.pendingCount === 0) return;
    const ready: { origin: string; op: TreeOp }[] = [];
    for (const key of keys) {
      const ops = this.pending.get(key);
      if (!ops) continue;
      this.pending.delete(key);
      this.pendingCount -= ops.length;
      ready.push(...ops);
    }
    for (const { origin, op } of ready) this.applyOp(origin, op);
  }

  encodeSnapshot(): Uint8Array {
    return encodeSnapshot(this.local);
  }

  applySnapshot(origin: string, bytes: Uint8Array): boolean {
    const tree = decodeSnapshot(bytes);
    if (!tree) return false;
    this.replicas.set(origin, tree);
    this.prefixes.delete(origin);
    // The snapshot covers every op of the origin so far: ops still parked for a base are in it
    // (or were evicted from it, and must not come back when their base shows up).
    this.dropPending(origin);
    this.indexTree(origin, tree);
    return true;
  }

  private resolve(origin: string, base: PrefixHash, baseLen: number, suffix: Uint32Array): Uint32Array | undefined {
    const key = prefixKey(base);
    // The sender may reference a prefix it learned from any node: its own ops, ours, or a third node's.
    const own = this.prefixes.get(origin);
    const holder = this.holderOf(own?.get(key), base, baseLen) ?? this.searchOthers(own, key, base, baseLen);
    if (!holder) return undefined;
    const seq = new Uint32Array(baseLen + suffix.length);
    seq.set(holder.subarray(0, baseLen));
    seq.set(suffix, baseLen);
    return seq;
  }

  private searchOthers(skip: PrefixIndex<Uint32Array | RadixNode> | undefined, key: number, base: PrefixHash, baseLen: number): Uint32Array | undefined {
    for (const index of this.prefixes.values()) {
      if (index === skip) continue;
      const holder = this.holderOf(index.get(key), base, baseLen);
      if (holder) return holder;
    }
    return undefined;
  }

  /**
   * The tokens an index entry holds, if they really start with the prefix: the key is 53 bits of the
   * 64-bit hash, and a tree node indexed after a snapshot may have changed since.
   */
  private holderOf(found: Uint32Array | RadixNode | undefined, base: PrefixHash, baseLen: number): Uint32Array | undefined {
    if (!found) return undefined;
    const holder = found instanceof Uint32Array ? found : pathOf(found);
    if (holder.length < baseLen) return undefined;
    const check = hashPrefix(holder, baseLen);
    return check.a === base.a && check.b === base.b ? holder : undefined;
  }

  private remember(origin: string, seq: Uint32Array): void {
    let index = this.prefixes.get(origin);
    if (!index) {
      index = new PrefixIndex(MAX_PREFIXES_PER_ORIGIN);
      this.prefixes.set(origin, index);
    }
    const { keys, count } = prefixKeys(seq, this.keyScratch);
    this.keyScratch = keys;
    index.seeAll(keys, count, seq);
    if (this.pendingCount > 0) this.release(keys.slice(0, count));
  }

  /** After a snapshot: index every stride-aligned prefix of the origin's tree (one pass, no copies). */
  private indexTree(origin: string, tree: RadixTree): void {
    const index = new PrefixIndex<Uint32Array | RadixNode>(MAX_PREFIXES_PER_ORIGIN);
    this.prefixes.set(origin, index);
    const visit = (node: RadixNode, state: RollingPrefixHash): void => {
      const next = rollPrefixHash(state, node.edge, (_len, h) => index.set(prefixKey(h), node));
      node.forEachChild((child) => visit(child, next));
    };
    visit(tree.root, ROLLING_START);
    if (this.pendingCount > 0) this.release([...this.pending.keys()].filter((k) => index.get(k) !== undefined));
  }
}

/** The full token path from the root to the end of `node`'s edge. */
function pathOf(node: RadixNode): Uint32Array {
  const edges: Uint32Array[] = [];
  let total = 0;
  for (let n: RadixNode | undefined = node; n; n = n.parent) {
    edges.push(n.edge);
    total += n.edge.length;
  }
  const out = new Uint32Array(total);
  let at = 0;
  for (let i = edges.length - 1; i >= 0; i--) {
    out.set(edges[i], at);
    at += edges[i].length;
  }
  return out;
}
