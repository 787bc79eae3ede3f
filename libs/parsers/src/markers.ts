/**
 * Marker search with hold-back, as stop strings do: text that could still become the start of a
 * marker once more output arrives is never released early.
 */

interface MarkerInfo {
  /** The first character every marker shares, or '' when they differ. */
  first: string;
  maxLength: number;
}

const infoCache = new WeakMap<readonly string[], MarkerInfo>();

/** Callers pass constant arrays for marker sets; one-marker arrays need no cache. */
function info(markers: readonly string[]): MarkerInfo {
  if (markers.length === 1) return { first: markers[0][0], maxLength: markers[0].length };
  let i = infoCache.get(markers);
  if (!i) {
    const first = markers[0][0];
    i = { first: markers.every((m) => m[0] === first) ? first : '', maxLength: Math.max(...markers.map((m) => m.length)) };
    infoCache.set(markers, i);
  }
  return i;
}

/**
 * Length of the longest suffix of `buf` (starting at or after `from`) that is a proper prefix of
 * one of `markers`. That many characters at the end must be held back.
 */
export function partialMarkerLength(buf: string, from: number, markers: readonly string[]): number {
  const len = buf.length;
  const { first, maxLength } = info(markers);
  const window = Math.max(from, len - (maxLength - 1));
  if (first !== '') {
    // Candidates start with the shared first character: try them from the earliest (longest).
    for (let j = buf.indexOf(first, window); j !== -1; j = buf.indexOf(first, j + 1)) {
      const tail = buf.slice(j);
      for (const m of markers) if (m.length > tail.length && m.startsWith(tail)) return len - j;
    }
    return 0;
  }
  let best = 0;
  for (const m of markers) {
    const c = m.charCodeAt(0);
    for (let j = Math.max(from, len - (m.length - 1)); j < len; j++) {
      if (buf.charCodeAt(j) !== c) continue;
      if (len - j > best && m.startsWith(buf.slice(j))) {
        best = len - j;
        break;
      }
    }
  }
  return best;
}

/** Earliest complete occurrence of any marker at or after `from`: [index, marker] or null. */
export function findFirstMarker(buf: string, from: number, markers: readonly string[]): [number, string] | null {
  if (markers.length === 1) {
    const i = buf.indexOf(markers[0], from);
    return i === -1 ? null : [i, markers[0]];
  }
  // Marker sets share a first character almost always ('<', '['): one scan for it, then compare.
  const { first } = info(markers);
  if (first !== '') {
    for (let i = buf.indexOf(first, from); i !== -1; i = buf.indexOf(first, i + 1)) {
      for (const m of markers) if (buf.startsWith(m, i)) return [i, m];
    }
    return null;
  }
  let at = -1;
  let found = '';
  for (const m of markers) {
    const i = buf.indexOf(m, from);
    if (i !== -1 && (at === -1 || i < at)) {
      at = i;
      found = m;
    }
  }
  return at === -1 ? null : [at, found];
}

export function isWs(code: number): boolean {
  return code === 32 || code === 10 || code === 13 || code === 9;
}

/** Index of the first non-whitespace character at or after `from` (buf.length if none). */
export function skipWs(buf: string, from: number): number {
  while (from < buf.length && isWs(buf.charCodeAt(from))) from++;
  return from;
}
