import { createHash } from 'node:crypto';
import type { RadixNode, RadixTree } from './radix-tree';

/**
 * A content digest: trees holding the same paths with the same owners and times have equal
 * digests, however their edges happen to be split (an edge split by an insert and never merged
 * back after an eviction or a removal describes the same content). Chains of single children with
 * identical owners are hashed as one edge, children in key order.
 */
export function treeDigest(tree: RadixTree): string {
  const h = createHash('sha256');
  // Token bytes go to the hash straight from the tree's storage (no per-token strings: anti-entropy
  // hashes whole trees, so this is most of its CPU); a merged chain streams edge after edge, which
  // hashes exactly like its concatenation, so how edges are split still does not matter.
  const feed = (edge: Uint32Array): number => {
    h.update(new Uint8Array(edge.buffer, edge.byteOffset, edge.byteLength));
    return edge.length;
  };
  const visit = (node: RadixNode, offset: number): void => {
    h.update(`${offset}:`);
    let length = feed(node.edge);
    let end = node;
    while (end !== tree.root && end.childCount === 1) {
      const only = end.onlyChild()!;
      if (!only.sameOwnersAs(node)) break;
      length += feed(only.edge);
      end = only;
    }
    h.update(`|${length}|`);
    for (const [o, t] of [...tree.ownersOf(node)].sort((a, b) => (a[0] < b[0] ? -1 : 1))) h.update(`${o}@${t};`);
    h.update('/');
    for (const child of end.sortedChildren()) visit(child, offset + length);
  };
  visit(tree.root, 0);
  return h.digest('hex').slice(0, 32);
}
