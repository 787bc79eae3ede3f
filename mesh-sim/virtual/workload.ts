import type { Rng } from '@drover/runtime';

/**
 * A multi-turn chat workload in token ids (no tokenizer needed in virtual time): sessions belong
 * to groups that share a long system prompt; each turn appends a user message to the history and,
 * once answered, the assistant's real output. A chat-template-like separator keeps turns apart.
 */
export interface WorkloadConfig {
  groups: number;
  systemTokens: number;
  userTokens: [number, number];
  turnsPerSession: [number, number];
  maxNewTokens: number;
}

export const DEFAULT_WORKLOAD: WorkloadConfig = {
  groups: 8,
  systemTokens: 1024,
  userTokens: [32, 160],
  turnsPerSession: [2, 6],
  maxNewTokens: 48,
};

const TURN_SEPARATOR = [151644, 77091, 198]; // "<|im_start|>assistant\n"-like

export class Session {
  private history: number[];
  turnsLeft: number;
  turn = 0;

  constructor(readonly id: string, readonly group: number, system: number[], turns: number, private readonly rng: Rng, private readonly config: WorkloadConfig) {
    this.history = [...system];
    this.turnsLeft = turns;
  }

  /** The next prompt: the history plus a fresh user message. */
  nextPrompt(): number[] {
    const [lo, hi] = this.config.userTokens;
    const n = lo + this.rng.int(hi - lo + 1);
    for (let i = 0; i < n; i++) this.history.push(10_000 + this.rng.int(50_000));
    this.history.push(...TURN_SEPARATOR);
    this.turn++;
    this.turnsLeft--;
    return [...this.history];
  }

  /** Appends the assistant's answer so the next turn's prompt extends this one. */
  answer(output: readonly number[]): void {
    this.history.push(...output, 151645, 198);
  }
}

export class MultiTurnWorkload {
  private readonly systems: number[][];
  private next = 0;

  constructor(private readonly rng: Rng, readonly config: WorkloadConfig = DEFAULT_WORKLOAD) {
    this.systems = Array.from({ length: config.groups }, (_, g) => {
      const r = rng.fork(`system-${g}`);
      return Array.from({ length: config.systemTokens }, () => 10_000 + r.int(50_000));
    });
  }

  newSession(): Session {
    const id = `s${this.next++}`;
    const group = this.rng.int(this.config.groups);
    const [lo, hi] = this.config.turnsPerSession;
    return new Session(id, group, this.systems[group], lo + this.rng.int(hi - lo + 1), this.rng.fork(id), this.config);
  }
}
