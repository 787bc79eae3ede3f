import { DEFAULT_TREE_BUDGET_TOKENS } from './limits';
import { RadixTree, type Recorded, type TreeMatch, type TreeStats } from './radix-tree';

/**
 * The same tree over text (UTF-16 code units), for workers reached over HTTP without
 * tokenization: the prompt's characters are the sequence, the budget is in characters.
 */
export class TextRadixTree {
  readonly tree: RadixTree;

  constructor(budgetChars = DEFAULT_TREE_BUDGET_TOKENS) {
    this.tree = new RadixTree(budgetChars);
  }

  insert(text: string, owner: string, time?: number): void {
    this.tree.insert(codes(text), owner, time);
  }

  /** Matches `text`; the result's cursor records it with `recordFrom` without a second walk. */
  match(text: string): TreeMatch {
    return this.tree.match(codes(text));
  }

  recordFrom(match: TreeMatch, owner: string, time?: number): Recorded {
    return this.tree.recordFrom(match.cursor, owner, time);
  }

  withdraw(text: string, owner: string, recorded: Recorded): void {
    this.tree.withdraw(codes(text), owner, recorded.time, recorded.heldBefore);
  }

  removeOwner(owner: string): void {
    this.tree.removeOwner(owner);
  }

  removeWorker(worker: string): void {
    this.tree.removeOwner(worker);
  }

  stats(): TreeStats {
    return this.tree.stats();
  }

  digest(): string {
    return this.tree.digest();
  }
}

function codes(text: string): Uint16Array {
  const out = new Uint16Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}
