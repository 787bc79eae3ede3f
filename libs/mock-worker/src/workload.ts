import type { Rng } from '@drover/runtime';

/**
 * A multi-turn chat workload in token ids, for simulations and benchmarks: sessions belong to
 * groups sharing a long system prompt; each turn appends a user message, and once answered, the
 * engine's real output (so the next prompt extends the previous one, as chat templates do).
 */
export interface ChatWorkloadConfig {
  groups: number;
  systemTokens: number;
  userTokens: [number, number];
  turns: [number, number];
  answerTokens: number;
}

export const DEFAULT_CHAT_WORKLOAD: ChatWorkloadConfig = { groups: 16, systemTokens: 2048, userTokens: [64, 256], turns: [2, 6], answerTokens: 64 };

const ASSISTANT_HEADER = [151644, 77091, 198];
const TURN_END = [151645, 198];

export class ChatSession {
  private readonly history: number[];
  turnsLeft: number;

  constructor(readonly id: string, readonly group: number, system: readonly number[], turns: number, private readonly rng: Rng, private readonly config: ChatWorkloadConfig) {
    this.history = [...system];
    this.turnsLeft = turns;
  }

  nextPrompt(): number[] {
    const [lo, hi] = this.config.userTokens;
    const n = lo + this.rng.int(hi - lo + 1);
    for (let i = 0; i < n; i++) this.history.push(1000 + this.rng.int(100_000));
    this.history.push(...ASSISTANT_HEADER);
    this.turnsLeft--;
    return [...this.history];
  }

  answer(output: readonly number[]): void {
    this.history.push(...output, ...TURN_END);
  }
}

export class ChatWorkload {
  private readonly systems: number[][];
  private next = 0;

  constructor(private readonly rng: Rng, readonly config: ChatWorkloadConfig = DEFAULT_CHAT_WORKLOAD) {
    this.systems = Array.from({ length: config.groups }, (_, g) => {
      const r = rng.fork(`system-${g}`);
      return Array.from({ length: config.systemTokens }, () => 1000 + r.int(100_000));
    });
  }

  newSession(): ChatSession {
    const id = `s${this.next++}`;
    const [lo, hi] = this.config.turns;
    const group = this.rng.int(this.config.groups);
    return new ChatSession(id, group, this.systems[group], lo + this.rng.int(hi - lo + 1), this.rng.fork(id), this.config);
  }
}
