import { SeededRng, type Rng } from '@drover/runtime';

/**
 * Seeded mutations of valid wire messages for the packet fuzzers. Every case is drawn from its
 * own fork of the seed, so one failing case replays alone (FUZZ_SEED + FUZZ_CASE) without running
 * the ones before it. CI runs a bounded number of cases; FUZZ_CASES runs more.
 */
export type FuzzKind = 'random' | 'truncated' | 'bitflip' | 'splice' | 'extended' | 'replay';

export interface FuzzCase {
  index: number;
  kind: FuzzKind;
  /** The corpus entry it was made from. */
  baseIndex: number;
  bytes: Uint8Array;
}

export interface FuzzSettings {
  seed: string;
  /** Case indices to run. */
  indices: number[];
}

/** Reads FUZZ_SEED, FUZZ_CASES and FUZZ_CASE (one case) from the environment. */
export function fuzzSettings(defaultSeed: string, defaultCases: number, env: NodeJS.ProcessEnv = process.env): FuzzSettings {
  const seed = env.FUZZ_SEED || defaultSeed;
  if (env.FUZZ_CASE !== undefined && env.FUZZ_CASE !== '') return { seed, indices: [Number(env.FUZZ_CASE)] };
  const count = env.FUZZ_CASES ? Number(env.FUZZ_CASES) : defaultCases;
  return { seed, indices: Array.from({ length: count }, (_, i) => i) };
}

/** The command that re-runs exactly one case. */
export function replayCommand(specPath: string, seed: string, index: number): string {
  return `FUZZ_SEED=${seed} FUZZ_CASE=${index} npx vitest run ${specPath}`;
}

const KINDS: readonly FuzzKind[] = ['random', 'truncated', 'bitflip', 'splice', 'extended', 'replay'];

/** Case `index` of a run: a mutation (or a verbatim replay) of something in `corpus`. */
export function fuzzCase(seed: string, index: number, corpus: readonly Uint8Array[], kinds: readonly FuzzKind[] = KINDS): FuzzCase {
  const rng = new SeededRng(`${seed}#${index}`);
  const kind = rng.pick(kinds);
  const baseIndex = rng.int(corpus.length);
  const base = corpus[baseIndex];
  const bytes = mutate(rng, kind, base, corpus);
  // A mutation can land back on a valid message (two flips of one bit, a splice at the ends): that is a replay.
  const valid = corpus.some((c) => c.length === bytes.length && Buffer.from(c).equals(Buffer.from(bytes)));
  return { index, kind: valid ? 'replay' : kind, baseIndex, bytes };
}

function mutate(rng: Rng, kind: FuzzKind, base: Uint8Array, corpus: readonly Uint8Array[]): Uint8Array {
  switch (kind) {
    case 'random':
      return randomBytes(rng, rng.bool(0.2) ? rng.int(4) : rng.int(base.length * 2 + 8));
    case 'truncated':
      return new Uint8Array(base.subarray(0, rng.int(Math.max(1, base.length))));
    case 'bitflip': {
      // A copy: `slice` of a Buffer is a view, and flipping bits in it would corrupt the corpus.
      const out = new Uint8Array(base);
      if (out.length === 0) return new Uint8Array([rng.int(256)]);
      const flips = 1 + rng.int(8);
      for (let i = 0; i < flips; i++) out[rng.int(out.length)] ^= 1 << rng.int(8);
      return out;
    }
    case 'splice': {
      const other = rng.pick(corpus);
      const a = base.subarray(0, rng.int(base.length + 1));
      const b = other.subarray(rng.int(other.length + 1));
      const out = new Uint8Array(a.length + b.length);
      out.set(a);
      out.set(b, a.length);
      return out;
    }
    case 'extended': {
      const tail = randomBytes(rng, 1 + rng.int(64));
      const out = new Uint8Array(base.length + tail.length);
      out.set(base);
      out.set(tail, base.length);
      return out;
    }
    case 'replay':
      return new Uint8Array(base);
  }
}

function randomBytes(rng: Rng, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.int(256);
  return out;
}
