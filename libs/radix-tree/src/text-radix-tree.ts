import { DEFAULT_TREE_BUDGET_TOKENS } from './limits';
import { RadixTree, type MatchResult, type TreeStats } from './radix-tree';

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

  match(text: string): MatchResult {
    return this.tree.match(codes(text));
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
