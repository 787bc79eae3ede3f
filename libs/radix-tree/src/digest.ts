import { createHash } from 'node:crypto';
import type { RadixTree } from './radix-tree';

/** A content digest: equal trees (same paths, owners and times) have equal digests. */
export function treeDigest(tree: RadixTree): string {
  const h = createHash('sha256');
  tree.walk((n, depth) => {
    h.update(`${depth}:${Array.from(n.edge).join(',')}|`);
    for (const [o, t] of [...n.owners].sort((a, b) => (a[0] < b[0] ? -1 : 1))) h.update(`${o}@${t};`);
  });
  return h.digest('hex').slice(0, 32);
}
