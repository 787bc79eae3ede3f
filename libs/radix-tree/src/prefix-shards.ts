import { applyOp, decodeOps, encodeOps, type TreeOp } from './ops-codec';
import { RadixTree, type MatchResult } from './radix-tree';
import { decodeSnapshot, encodeSnapshot } from './snapshot-codec';
import { treeDigest } from './digest';

/**
 * The routing state of one model across a mesh: this node's own shard (the prefixes it routed)
 * and a replica of every peer's shard. Each shard is a tree bounded by the same token budget,
 * so memory is bounded by budget × mesh size. Shaped as @drover/crdt-sync's ShardAdapter, so the
 * sync channel can carry ops and snapshots without knowing trees.
 */
export class PrefixShards {
  readonly local: RadixTree;
  private readonly replicas = new Map<string, RadixTree>();

  constructor(readonly budgetTokens: number) {
    this.local = new RadixTree(budgetTokens);
  }

  /** Records a local routing decision; returns the op to append to this node's shard. */
  record(seq: ArrayLike<number>, worker: string): TreeOp {
    const time = this.local.now + 1;
    const op: TreeOp = { kind: 'insert', seq: Uint32Array.from(seq), owner: worker, time };
    this.local.insert(op.seq, worker, time);
    return op;
  }

  /** Forgets a worker everywhere (it left the registry). */
  removeWorker(worker: string): TreeOp {
    const op: TreeOp = { kind: 'remove_owner', owner: worker, time: this.local.now + 1 };
    this.local.removeOwner(worker);
    for (const r of this.replicas.values()) r.removeOwner(worker);
    return op;
  }

  /** Longest match per worker over every shard. */
  match(seq: ArrayLike<number>): MatchResult {
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
    return tree ? treeDigest(tree) : 'empty';
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
    applyOp(r, op);
  }

  encodeSnapshot(): Uint8Array {
    return encodeSnapshot(this.local);
  }

  applySnapshot(origin: string, bytes: Uint8Array): boolean {
    const tree = decodeSnapshot(bytes);
    if (!tree) return false;
    this.replicas.set(origin, tree);
    return true;
  }
}
