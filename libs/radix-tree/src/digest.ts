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
  const visit = (node: RadixNode, offset: number): void => {
    const tokens: number[] = Array.from(node.edge);
    let end = node;
    while (end !== tree.root && end.childCount === 1) {
      const only = end.onlyChild()!;
      if (!only.sameOwnersAs(node)) break;
      for (const t of only.edge) tokens.push(t);
      end = only;
    }
    h.update(`${offset}:${tokens.join(',')}|`);
    for (const [o, t] of [...tree.ownersOf(node)].sort((a, b) => (a[0] < b[0] ? -1 : 1))) h.update(`${o}@${t};`);
    h.update('/');
    for (const child of end.sortedChildren()) visit(child, offset + tokens.length);
  };
  visit(tree.root, 0);
  return h.digest('hex').slice(0, 32);
}
