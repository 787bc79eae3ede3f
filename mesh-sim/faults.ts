/**
 * The fault grammar of mesh-sim (documented in mesh-sim/README.md). One fault per string, e.g.
 *   kill node-2 at 10s            restart node-2 at 30s         kill worker-1 at 20s
 *   partition node-0,node-1 | node-2,node-3 from 40s to 70s
 *   loss 10% from 0s [to 60s]     delay 50ms~20ms node-3 from 0s [to 60s]
 *   stall worker-2 from 50s to 60s                pause node-1 from 10s to 14s
 *   flap node-4 every 5s from 80s to 100s         leave node-1 at 20s
 *   join node-5 at 30s            rolling-restart every 10s from 20s
 *   churn 5% every 10s from 10s to 100s
 * Times are `Ns`, `Nms` or `Nm`; names are node-K / worker-K.
 */
export type Fault =
  | { kind: 'kill' | 'restart' | 'leave' | 'join'; target: string; atMs: number }
  | { kind: 'partition'; groups: string[][]; fromMs: number; toMs: number }
  | { kind: 'loss'; rate: number; fromMs: number; toMs: number; target?: string }
  | { kind: 'delay'; meanMs: number; jitterMs: number; target?: string; fromMs: number; toMs: number }
  | { kind: 'stall' | 'pause'; target: string; fromMs: number; toMs: number }
  | { kind: 'flap'; target: string; everyMs: number; fromMs: number; toMs: number }
  | { kind: 'rolling-restart'; everyMs: number; fromMs: number }
  | { kind: 'churn'; fraction: number; everyMs: number; fromMs: number; toMs: number };

export class FaultSyntaxError extends Error {
  constructor(readonly input: string, reason: string) {
    super(`invalid fault '${input}': ${reason}`);
    this.name = 'FaultSyntaxError';
  }
}

const NAME = /^(node|worker)-\d+$/;

export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(text.trim());
  if (!m) throw new Error(`'${text}' is not a duration (use 500ms, 10s or 2m)`);
  const n = Number(m[1]);
  return m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : n * 60_000;
}

function percent(text: string, input: string): number {
  const m = /^(\d+(?:\.\d+)?)%$/.exec(text);
  if (!m || Number(m[1]) > 100) throw new FaultSyntaxError(input, `'${text}' is not a percentage (e.g. 10%)`);
  return Number(m[1]) / 100;
}

function name(text: string | undefined, input: string): string {
  if (!text || !NAME.test(text)) throw new FaultSyntaxError(input, `'${text ?? ''}' is not a node-K or worker-K name`);
  return text;
}

/** Reads `from X [to Y]` (open end = Infinity) starting at words[i]. */
function window(words: string[], i: number, input: string, needTo = false): { fromMs: number; toMs: number; next: number } {
  if (words[i] !== 'from') throw new FaultSyntaxError(input, `expected 'from <time>'`);
  const fromMs = time(words[i + 1], input);
  if (words[i + 2] === 'to') {
    const toMs = time(words[i + 3], input);
    if (toMs <= fromMs) throw new FaultSyntaxError(input, `'to' must be after 'from'`);
    return { fromMs, toMs, next: i + 4 };
  }
  if (needTo) throw new FaultSyntaxError(input, `expected 'to <time>'`);
  return { fromMs, toMs: Number.POSITIVE_INFINITY, next: i + 2 };
}

function time(text: string | undefined, input: string): number {
  try {
    return parseDuration(text ?? '');
  } catch (err) {
    throw new FaultSyntaxError(input, (err as Error).message);
  }
}

function done(words: string[], i: number, input: string): void {
  if (i < words.length) throw new FaultSyntaxError(input, `unexpected '${words.slice(i).join(' ')}'`);
}

export function parseFault(input: string): Fault {
  const words = input.trim().split(/\s+/);
  const verb = words[0];
  switch (verb) {
    case 'kill':
    case 'restart':
    case 'leave':
    case 'join': {
      const target = name(words[1], input);
      if (words[2] !== 'at') throw new FaultSyntaxError(input, `expected 'at <time>'`);
      if ((verb === 'leave' || verb === 'join') && !target.startsWith('node-')) throw new FaultSyntaxError(input, `${verb} applies to nodes`);
      const atMs = time(words[3], input);
      done(words, 4, input);
      return { kind: verb, target, atMs };
    }
    case 'partition': {
      const bar = words.indexOf('|');
      const fromAt = words.indexOf('from');
      if (bar < 0 || fromAt < bar) throw new FaultSyntaxError(input, `expected 'partition A,B | C,D from <time> to <time>'`);
      const groups = [words.slice(1, bar).join(''), words.slice(bar + 1, fromAt).join('')].map((g) => g.split(',').filter(Boolean).map((n) => name(n, input)));
      if (groups.some((g) => g.length === 0)) throw new FaultSyntaxError(input, 'both sides of | need nodes');
      const w = window(words, fromAt, input, true);
      done(words, w.next, input);
      return { kind: 'partition', groups, fromMs: w.fromMs, toMs: w.toMs };
    }
    case 'loss': {
      const rate = percent(words[1] ?? '', input);
      let i = 2;
      let target: string | undefined;
      if (words[i] && NAME.test(words[i])) target = words[i++];
      const w = window(words, i, input);
      done(words, w.next, input);
      return { kind: 'loss', rate, target, fromMs: w.fromMs, toMs: w.toMs };
    }
    case 'delay': {
      const m = /^(\d+(?:\.\d+)?(?:ms|s))(?:~(\d+(?:\.\d+)?(?:ms|s)))?$/.exec(words[1] ?? '');
      if (!m) throw new FaultSyntaxError(input, `expected 'delay 50ms~20ms [node-K] from <time>'`);
      let i = 2;
      let target: string | undefined;
      if (words[i] && NAME.test(words[i])) target = words[i++];
      const w = window(words, i, input);
      done(words, w.next, input);
      return { kind: 'delay', meanMs: time(m[1], input), jitterMs: m[2] ? time(m[2], input) : 0, target, fromMs: w.fromMs, toMs: w.toMs };
    }
    case 'stall':
    case 'pause': {
      const target = name(words[1], input);
      if (verb === 'stall' && !target.startsWith('worker-')) throw new FaultSyntaxError(input, 'stall applies to workers');
      if (verb === 'pause' && !target.startsWith('node-')) throw new FaultSyntaxError(input, 'pause applies to nodes');
      const w = window(words, 2, input, true);
      done(words, w.next, input);
      return { kind: verb, target, fromMs: w.fromMs, toMs: w.toMs };
    }
    case 'flap': {
      const target = name(words[1], input);
      if (words[2] !== 'every') throw new FaultSyntaxError(input, `expected 'flap node-K every <time> from <time> to <time>'`);
      const everyMs = time(words[3], input);
      const w = window(words, 4, input, true);
      done(words, w.next, input);
      return { kind: 'flap', target, everyMs, fromMs: w.fromMs, toMs: w.toMs };
    }
    case 'rolling-restart': {
      if (words[1] !== 'every') throw new FaultSyntaxError(input, `expected 'rolling-restart every <time> from <time>'`);
      const everyMs = time(words[2], input);
      const w = window(words, 3, input);
      done(words, w.next, input);
      return { kind: 'rolling-restart', everyMs, fromMs: w.fromMs };
    }
    case 'churn': {
      const fraction = percent(words[1] ?? '', input);
      if (words[2] !== 'every') throw new FaultSyntaxError(input, `expected 'churn 5% every <time> from <time> to <time>'`);
      const everyMs = time(words[3], input);
      const w = window(words, 4, input, true);
      done(words, w.next, input);
      return { kind: 'churn', fraction, everyMs, fromMs: w.fromMs, toMs: w.toMs };
    }
    default:
      throw new FaultSyntaxError(input, `unknown fault '${verb}' (kill, restart, leave, join, partition, loss, delay, stall, pause, flap, rolling-restart, churn)`);
  }
}

/** Checks that every name a fault mentions exists in a cluster of `nodes` nodes and `workers` workers. */
export function checkNames(fault: Fault, nodes: number, workers: number, input: string): void {
  const names: string[] = [];
  if ('target' in fault && fault.target) names.push(fault.target);
  if (fault.kind === 'partition') names.push(...fault.groups.flat());
  for (const n of names) {
    const [kind, index] = n.split('-');
    const limit = kind === 'node' ? nodes : workers;
    if (Number(index) >= limit && !(fault.kind === 'join' && kind === 'node')) {
      throw new FaultSyntaxError(input, `${n} does not exist (${kind}s are ${kind}-0..${kind}-${limit - 1})`);
    }
  }
}
