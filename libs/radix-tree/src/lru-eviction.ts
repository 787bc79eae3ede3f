import type { RadixNode } from './radix-node';

/**
 * Evicts leaves least recently used first while `over()` holds; a parent left without children
 * becomes a candidate at its own last use. One collection of the leaves and a binary heap (ties
 * broken by collection order, so the same tree always evicts the same way). Returns how many
 * nodes were evicted. Called once per overflow, which evicts down to a margin below the budget,
 * so the scan is amortised over many inserts.
 */
export function evictLeastRecentlyUsed(root: RadixNode, over: () => boolean, evict: (leaf: RadixNode) => void): number {
  const heap = new LeafHeap();
  const stack: RadixNode[] = [root];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (n !== root && n.isLeaf) heap.push(n);
    else n.forEachChild((c) => stack.push(c));
  }
  let evicted = 0;
  while (over() && heap.size > 0) {
    const leaf = heap.pop();
    const parent = leaf.parent!;
    evict(leaf);
    evicted++;
    if (parent !== root && parent.isLeaf) heap.push(parent);
  }
  return evicted;
}

/** Min-heap of nodes by (last use, order pushed). */
class LeafHeap {
  private readonly nodes: RadixNode[] = [];
  private readonly keys: number[] = [];
  private readonly order: number[] = [];
  private pushed = 0;

  get size(): number {
    return this.nodes.length;
  }

  push(node: RadixNode): void {
    this.nodes.push(node);
    this.keys.push(node.lastUsed());
    this.order.push(this.pushed++);
    this.up(this.nodes.length - 1);
  }

  pop(): RadixNode {
    const top = this.nodes[0];
    const last = this.nodes.length - 1;
    this.swap(0, last);
    this.nodes.pop();
    this.keys.pop();
    this.order.pop();
    if (this.nodes.length > 0) this.down(0);
    return top;
  }

  private less(a: number, b: number): boolean {
    return this.keys[a] < this.keys[b] || (this.keys[a] === this.keys[b] && this.order[a] < this.order[b]);
  }

  private up(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) return;
      this.swap(i, p);
      i = p;
    }
  }

  private down(i: number): void {
    const n = this.nodes.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) return;
      const c = l + 1 < n && this.less(l + 1, l) ? l + 1 : l;
      if (!this.less(c, i)) return;
      this.swap(i, c);
      i = c;
    }
  }

  private swap(a: number, b: number): void {
    [this.nodes[a], this.nodes[b]] = [this.nodes[b], this.nodes[a]];
    [this.keys[a], this.keys[b]] = [this.keys[b], this.keys[a]];
    [this.order[a], this.order[b]] = [this.order[b], this.order[a]];
  }
}
