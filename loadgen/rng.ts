/**
 * Seeded randomness so a run's prompts and arrival times are reproducible from `--seed`
 * (mulberry32: tiny, fast, good enough for load shapes; not for cryptography).
 */
export type Random = () => number;

export function seeded(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * An independent stream per purpose: arrivals and prompt text must not share one sequence, or
 * changing the workload would silently change the arrival schedule.
 */
export function forkSeed(seed: number, label: string): Random {
  let h = seed >>> 0 || 1;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0;
  return seeded(h);
}
