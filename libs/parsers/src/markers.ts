/**
 * Marker search with hold-back, as stop strings do: text that could still become the start of a
 * marker once more output arrives is never released early.
 */

/**
 * Length of the longest suffix of `buf` (starting at or after `from`) that is a proper prefix of
 * one of `markers`. That many characters at the end must be held back.
 */
export function partialMarkerLength(buf: string, from: number, markers: readonly string[]): number {
  let best = 0;
  const len = buf.length;
  for (const m of markers) {
    const first = m.charCodeAt(0);
    let j = Math.max(from, len - (m.length - 1));
    for (; j < len; j++) {
      if (buf.charCodeAt(j) !== first) continue;
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
  const first = markers[0][0];
  if (markers.every((m) => m[0] === first)) {
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
