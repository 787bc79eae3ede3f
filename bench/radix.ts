/**
 * `npm run bench -- radix --json`: radix tree throughput and memory. Sequences of 256 and 4,096
 * tokens where 80% of each is a prefix shared with others (one of 64 "system prompts"), the rest
 * random; 8 owners. Heap figures come from forced GCs around building the tree.
 *
 * `naive_insert_per_s_256` is the floor our tree must reach: a plain trie written here (one node
 * per token, children in a Map, the owner written on each node, no edge compression, no LRU, no
 * budget, no eviction) inserting the same 256-token sequences in the same run.
 *
 * `shards_record_per_s_*` is what the gateway pays per routed request: `PrefixShards.record` (the
 * match over every shard, the local insert, the prefix index that resolves peers' compact ops).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { PrefixShards, RadixTree } from '@drover/radix-tree';
import { SeededRng } from '@drover/runtime';

export const description = 'radix tree inserts/matches per second and memory per node / per 10k prefixes';

setFlagsFromString('--expose_gc');
const gc = runInNewContext('gc') as () => void;

function workload(count: number, length: number, seed: string): Uint32Array[] {
  const rng = new SeededRng(seed);
  const shared = Math.floor(length * 0.8);
  const prefixes = Array.from({ length: 64 }, () => Uint32Array.from({ length: shared }, () => rng.int(150_000)));
  return Array.from({ length: count }, () => {
    const seq = new Uint32Array(length);
    seq.set(prefixes[rng.int(prefixes.length)]);
    for (let i = shared; i < length; i++) seq[i] = rng.int(150_000);
    return seq;
  });
}

/** The reference trie: what "just use a Map per token" costs, with none of the tree's bookkeeping. */
class NaiveTrieNode {
  readonly children = new Map<number, NaiveTrieNode>();
  owner = '';
}

function naiveInsert(root: NaiveTrieNode, seq: Uint32Array, owner: string): void {
  let node = root;
  for (let i = 0; i < seq.length; i++) {
    let next = node.children.get(seq[i]);
    if (!next) {
      next = new NaiveTrieNode();
      node.children.set(seq[i], next);
    }
    next.owner = owner;
    node = next;
  }
}

function naiveRate(seqs: Uint32Array[]): number {
  const root = new NaiveTrieNode();
  const r = rate(seqs.length, () => seqs.forEach((s, i) => naiveInsert(root, s, `w${i % 8}`)));
  if (root.children.size === 0) throw new Error('unreachable');
  return r;
}

/**
 * Operations per CPU-second of this process (user + system, GC threads included), not per
 * wall-clock second: the loop is synchronous and single-threaded, so on an idle machine the two
 * agree (CPU time is the larger when GC runs in parallel), and on a shared one the figure stays
 * the cost of the work rather than the scheduler's share.
 */
function rate(n: number, fn: () => void): number {
  const t0 = process.cpuUsage();
  fn();
  const used = process.cpuUsage(t0);
  return Math.round(n / ((used.user + used.system) / 1e6));
}

function heapMb(build: () => unknown): { mb: number; keep: unknown } {
  gc();
  gc();
  // Typed-array edges live outside the JS heap: count array buffers too.
  const used = () => {
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  const before = used();
  const keep = build();
  gc();
  gc();
  return { mb: (used() - before) / 1024 / 1024, keep };
}

/** Routing records through the mesh-facing shards (one shard: the cost per request, not per peer). */
function recordRate(count: number, length: number): number {
  const seqs = workload(count, length, `rec-${length}`);
  const shards = new PrefixShards(8_000_000);
  gc();
  return rate(count, () => seqs.forEach((s, i) => shards.record(s, `w${i % 8}`)));
}

function throughput(count: number, length: number, withNaive = false): { insert: number; match: number; naive: number } {
  const seqs = workload(count, length, `ins-${length}`);
  const queries = workload(count, length, `q-${length}`);
  const tree = new RadixTree();
  gc();
  const insert = rate(count, () => seqs.forEach((s, i) => tree.insert(s, `w${i % 8}`)));
  let sink = 0;
  const match = rate(count, () => queries.forEach((q) => (sink += tree.match(q).length)));
  if (sink < 0) throw new Error('unreachable');
  // Same sequences, same owners, from a collected heap like the tree's run.
  gc();
  const naive = withNaive ? naiveRate(seqs) : 0;
  return { insert, match, naive };
}

export async function run(): Promise<Record<string, unknown>> {
  throughput(2000, 256, true); // warm-up (JIT), the naive trie's too
  const t256 = throughput(50_000, 256, true);
  throughput(4000, 4096); // warm-up at this length too: its first full run is still tiering up
  const t4k = throughput(4000, 4096);
  recordRate(2000, 256); // warm-up
  const record256 = recordRate(20_000, 256);
  const record4k = recordRate(2000, 4096);
  const seqs1k = workload(10_000, 1024, 'mem-1k');
  // The tree copies what it keeps, so the input sequences are not counted as tree memory.
  const { mb, keep } = heapMb(() => {
    const tree = new RadixTree();
    seqs1k.forEach((s, i) => tree.insert(s, `w${i % 8}`));
    return tree;
  });
  const tree = keep as RadixTree;
  const r = (x: number) => Math.round(x * 100) / 100;
  return {
    insert_per_s_256: t256.insert,
    naive_insert_per_s_256: t256.naive,
    insert_per_s_4k: t4k.insert,
    match_per_s_256: t256.match,
    match_per_s_4k: t4k.match,
    shards_record_per_s_256: record256,
    shards_record_per_s_4k: record4k,
    bytes_per_node: Math.round((mb * 1024 * 1024) / tree.nodes),
    mb_10k_prefixes_1k: r(mb),
    nodes_10k_prefixes_1k: tree.nodes,
    tokens_10k_prefixes_1k: tree.tokens,
  };
}
