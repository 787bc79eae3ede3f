import { Reader, Writer } from './bytes';
import { DEFAULT_TREE_LIMITS, type TreeCodecLimits } from './limits';
import { RadixTree, type RadixNode } from './radix-tree';

const MAGIC = 0x52; // 'R'
const VERSION = 1;

/**
 * Structure-preserving snapshot: nodes in depth-first order, each with its edge (shared prefixes
 * stored once), its owners (indexes into an owner table) with their logical times, and its
 * child count. `[magic][version][budget][owners...][node...]`.
 */
export function encodeSnapshot(tree: RadixTree): Uint8Array {
  const owners = new Map<string, number>();
  tree.walk((n) => n.forEachOwner((o) => owners.has(tree.ownerName(o)) || owners.set(tree.ownerName(o), owners.size)));
  const w = new Writer();
  w.u8(MAGIC);
  w.u8(VERSION);
  w.varint(Number.isFinite(tree.budgetTokens) ? tree.budgetTokens + 1 : 0);
  w.varint(owners.size);
  for (const o of owners.keys()) w.string(o);
  w.varint(tree.nodes);
  tree.walk((n) => {
    w.varint(n.edge.length);
    for (const t of n.edge) w.varint(t);
    w.varint(n.ownerCount);
    n.forEachOwner((o, time) => {
      w.varint(owners.get(tree.ownerName(o))!);
      w.varint(time);
    });
    w.varint(n.childCount);
  });
  return w.finish();
}

export function decodeSnapshot(bytes: Uint8Array, limits: Partial<TreeCodecLimits> = {}): RadixTree | undefined {
  const lim = { ...DEFAULT_TREE_LIMITS, ...limits };
  if (bytes.length > lim.maxBytes) return undefined;
  const r = new Reader(bytes);
  if (r.u8() !== MAGIC || r.u8() !== VERSION) return undefined;
  const budgetPlusOne = r.varint();
  const ownerCount = r.varint();
  if (budgetPlusOne === undefined || ownerCount === undefined || ownerCount > lim.maxOwners || ownerCount > r.remaining) return undefined;
  const owners: string[] = [];
  for (let i = 0; i < ownerCount; i++) {
    const o = r.string(lim.maxOwnerNameBytes);
    if (o === undefined) return undefined;
    owners.push(o);
  }
  const nodeCount = r.varint();
  if (nodeCount === undefined || nodeCount < 1 || nodeCount > lim.maxNodes || nodeCount > r.remaining) return undefined;
  const tree = new RadixTree(budgetPlusOne === 0 ? Number.POSITIVE_INFINITY : budgetPlusOne - 1);
  let tokens = 0;
  // Iterative pre-order rebuild: a stack of (node, children still expected).
  const stack: { node: RadixNode; pending: number }[] = [];
  for (let k = 0; k < nodeCount; k++) {
    const edgeLen = r.varint();
    if (edgeLen === undefined || edgeLen > r.remaining || (k > 0 && edgeLen === 0) || (k === 0 && edgeLen !== 0)) return undefined;
    tokens += edgeLen;
    if (tokens > lim.maxTokens) return undefined;
    const edge = new Uint32Array(edgeLen);
    for (let i = 0; i < edgeLen; i++) {
      const t = r.varint();
      if (t === undefined || t > 0xffffffff) return undefined;
      edge[i] = t;
    }
    const nOwners = r.varint();
    if (nOwners === undefined || nOwners > ownerCount) return undefined;
    const held: [string, number][] = [];
    for (let i = 0; i < nOwners; i++) {
      const idx = r.varint();
      const time = r.varint();
      if (idx === undefined || time === undefined || idx >= ownerCount) return undefined;
      held.push([owners[idx], time]);
    }
    const children = r.varint();
    if (children === undefined || children > nodeCount) return undefined;
    let node = tree.root;
    if (k > 0) {
      const top = stack[stack.length - 1];
      if (!top || top.pending === 0 || top.node.child(edge[0])) return undefined;
      top.pending--;
      node = tree.appendChild(top.node, edge);
    }
    for (const [owner, time] of held) tree.setOwner(node, owner, time);
    while (stack.length > 0 && stack[stack.length - 1].pending === 0) stack.pop();
    if (children > 0) stack.push({ node, pending: children });
  }
  if (stack.length > 0 || r.remaining !== 0) return undefined;
  return tree;
}
