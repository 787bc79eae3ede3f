/**
 * `--sweep N --seed S`: N generated fault mixes, each a complete mesh-sim command line (so a
 * failing mix replays from its own printed line, without the sweep). Mixes combine loss,
 * delay/jitter, partitions of random shapes (two sides, or three when some nodes sit on neither),
 * crashes and restarts on both sides of a cut (some right after its heal), stalls, worker kills,
 * pauses and flaps, rolling restarts and churn, overlapping in time.
 *
 * What is generated stays within what the invariants promise: worker-0 is never touched (a request
 * always has somewhere to go), loss stays ≤ 15% and delay ≤ 150 ms (SWIM is not excused for false
 * positives under loss or delay), and partitions do not overlap (a heal heals the whole network).
 */
import { SeededRng, type Rng } from '@drover/runtime';

export interface Mix {
  /** The mix's own seed: the simulation runs under it. */
  seed: number;
  /** mesh-sim arguments, seed excluded (`plan([...argv, '--seed', seed])`). */
  argv: string[];
}

const s = (ms: number) => `${Math.round(ms / 100) / 10}s`;

export function generateMix(sweepSeed: number, index: number): Mix {
  const rng = new SeededRng(`sweep:${sweepSeed}:${index}`);
  const nodes = 3 + rng.int(6); // 3..8
  const workers = 3 + rng.int(4); // 3..6
  const durationMs = (30 + rng.int(41)) * 1000; // 30..70 s
  let rps = 4 + rng.int(9); // 4..12
  const faults: string[] = [];
  const node = (r: Rng = rng) => `node-${r.int(nodes)}`;
  // Worker faults hit at most workers − 2 of worker-1.. (worker-0 and one more always serve).
  const faultable = rng.shuffle(Array.from({ length: workers - 1 }, (_, i) => `worker-${i + 1}`)).slice(0, workers - 2);
  const touched = new Set<string>();
  const spare = () => {
    const w = rng.pick(faultable);
    touched.add(w);
    return w;
  };
  const window = (minLen: number, maxLen: number): [number, number] => {
    const len = minLen + rng.next() * (maxLen - minLen);
    const from = 1000 + rng.next() * Math.max(0, durationMs - len - 3000);
    return [from, from + len];
  };
  const count = 2 + rng.int(4); // 2..5 faults
  let partitioned = false;
  for (let k = 0; k < count; k++) {
    const roll = rng.int(100);
    if (roll < 22 && !partitioned && nodes >= 2) {
      // A cut of random shape; crashes and restarts around it on both sides.
      partitioned = true;
      const order = rng.shuffle(Array.from({ length: nodes }, (_, i) => `node-${i}`));
      const a = 1 + rng.int(nodes - 1);
      const b = nodes - a > 1 && rng.bool(0.25) ? a + 1 + rng.int(nodes - a - 1) : nodes; // nodes past b: a third side
      const [from, to] = window(5000, Math.min(60_000, durationMs - 5000));
      faults.push(`partition ${order.slice(0, a).join(',')} | ${order.slice(a, b).join(',')} from ${s(from)} to ${s(to)}`);
      for (const side of [order.slice(0, a), order.slice(a, b)]) {
        if (!rng.bool(0.6)) continue;
        const victim = rng.pick(side);
        // Mostly just after the heal (issue 17), else during the cut.
        const at = rng.bool(0.7) ? to + rng.next() * 5000 : from + rng.next() * (to - from);
        faults.push(`kill ${victim} at ${s(at)}`, `restart ${victim} at ${s(at + 1000 + rng.next() * 10_000)}`);
      }
    } else if (roll < 34) {
      const [from, to] = window(5000, durationMs);
      const target = rng.bool(0.4) ? ` ${node()}` : '';
      faults.push(`loss ${2 + rng.int(14)}%${target} from ${s(from)}${rng.bool(0.2) ? '' : ` to ${s(to)}`}`);
    } else if (roll < 46) {
      const [from, to] = window(5000, durationMs);
      const mean = 5 + rng.int(146);
      const target = rng.bool(0.5) ? ` ${node()}` : '';
      faults.push(`delay ${mean}ms~${rng.int(Math.floor(mean / 2) + 1)}ms${target} from ${s(from)} to ${s(to)}`);
    } else if (roll < 60) {
      const victim = node();
      const at = 1000 + rng.next() * (durationMs - 3000);
      faults.push(`kill ${victim} at ${s(at)}`, `restart ${victim} at ${s(at + 500 + rng.next() * 15_000)}`);
    } else if (roll < 68 && workers > 1) {
      const [from, to] = window(2000, 15_000);
      faults.push(`stall ${spare()} from ${s(from)} to ${s(to)}`);
    } else if (roll < 76 && workers > 1) {
      const w = spare();
      const at = 1000 + rng.next() * (durationMs - 3000);
      faults.push(`kill ${w} at ${s(at)}`);
      if (rng.bool(0.6)) faults.push(`restart ${w} at ${s(at + 1000 + rng.next() * 15_000)}`);
    } else if (roll < 84) {
      const [from, to] = window(2000, 10_000);
      if (rng.bool(0.5)) faults.push(`pause ${node()} from ${s(from)} to ${s(to)}`);
      else faults.push(`flap ${node()} every ${2 + rng.int(4)}s from ${s(from)} to ${s(to + 5000)}`);
    } else if (roll < 92) {
      faults.push(`rolling-restart every ${3 + rng.int(8)}s from ${s(1000 + rng.next() * (durationMs / 2))}`);
    } else {
      const [from, to] = window(10_000, durationMs);
      faults.push(`churn ${10 + rng.int(21)}% every ${4 + rng.int(7)}s from ${s(from)} to ${s(to)}`);
    }
  }
  // Cold prompts (their cache was on a stalled or dead worker) prefill at 8000 tokens/s per engine
  // and run to ~2000 tokens: the workers that always serve must carry the whole load within the
  // 3 s first-token timeout, or requests are lost to overload rather than to a fault.
  rps = Math.min(rps, 3 * (workers - touched.size));
  const argv = ['--nodes', String(nodes), '--workers', String(workers), '--duration', `${durationMs / 1000}s`, '--load', `rps ${rps} multiturn`];
  for (const f of faults) argv.push('--fault', f);
  // Each mix runs under its own seed, printed in its replay line.
  return { seed: (sweepSeed * 100_003 + index) % 2 ** 31, argv };
}
