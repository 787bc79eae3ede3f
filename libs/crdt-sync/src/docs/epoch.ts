import type { DocEpoch } from '../wire/messages';

/** Lexicographic order on (n, id): positive when `a` is newer. */
export function compareEpoch(a: DocEpoch, b: DocEpoch): number {
  return a.n !== b.n ? a.n - b.n : a.id - b.id;
}

export function formatEpoch(e: DocEpoch): string {
  return `${e.n}.${e.id.toString(16)}`;
}
