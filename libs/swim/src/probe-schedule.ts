import type { Rng } from '@drover/runtime';

/**
 * SWIM's randomised round-robin: members are probed in a shuffled order, every member once per
 * round, and the order is reshuffled for the next round. Newcomers are inserted at a random
 * position among those not yet probed this round, so they are probed within one round. This
 * bounds the worst-case detection time (the pure random choice of the first paper does not).
 */
export class ProbeSchedule {
  private order: string[] = [];
  private position = 0;

  constructor(private readonly rng: Rng) {}

  /** Next probe target accepted by `probeable`, or undefined when there is none. */
  next(candidates: () => readonly string[], probeable: (name: string) => boolean): string | undefined {
    for (let pass = 0; pass < 2; pass++) {
      while (this.position < this.order.length) {
        const name = this.order[this.position++];
        if (probeable(name)) return name;
      }
      this.order = this.rng.shuffle([...candidates()]);
      this.position = 0;
    }
    return undefined;
  }

  add(name: string): void {
    const remaining = this.order.length - this.position;
    const at = this.position + this.rng.int(remaining + 1);
    this.order.splice(at, 0, name);
  }
}
