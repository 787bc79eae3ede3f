import { Inject, Injectable } from '@nestjs/common';
import { DroverError, type Rng } from '@drover/runtime';
import type { GatewayConfig } from '../config/options';
import { CONFIG, RNG } from '../runtime/tokens';
import type { WorkerRecord } from '../workers/worker-record';
import { WorkerRegistryService } from '../workers/worker-registry.service';

export interface RouteInput {
  model: string;
  tokens: readonly number[];
  headers: Record<string, string | string[] | undefined>;
  user?: string;
  exclude?: ReadonlySet<string>;
}

export interface RouteResult {
  worker: WorkerRecord;
  reason: string;
  matchRatio: number;
}

/** Picks a worker for a request. Interim policies until @drover/routing is wired in. */
@Injectable()
export class RoutingService {
  private rrCounter = 0;
  private readonly rng: Rng;

  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(RNG) rng: Rng,
    @Inject(WorkerRegistryService) private readonly registry: WorkerRegistryService,
  ) {
    this.rng = rng.fork('routing');
  }

  select(input: RouteInput): RouteResult {
    const candidates = this.registry.routable(input.model).filter((w) => !input.exclude?.has(w.id));
    if (candidates.length === 0) {
      throw new DroverError('no_healthy_worker', `no healthy worker is available for model '${input.model}'`);
    }
    if (this.config.policy === 'round_robin') {
      return { worker: candidates[this.rrCounter++ % candidates.length], reason: 'policy', matchRatio: 0 };
    }
    if (this.config.policy === 'random') return { worker: this.rng.pick(candidates), reason: 'policy', matchRatio: 0 };
    const a = this.rng.pick(candidates);
    const b = this.rng.pick(candidates);
    return { worker: a.inFlight <= b.inFlight ? a : b, reason: 'policy', matchRatio: 0 };
  }

  stats(): { model: string; policy: string; treeNodes: number; treeTokens: number; hitRatio: number | null }[] {
    const models = new Set(this.registry.list().map((w) => w.model).filter((m): m is string => !!m));
    return [...models].map((model) => ({ model, policy: this.config.policy, treeNodes: 0, treeTokens: 0, hitRatio: null }));
  }

  /** Called after a request was sent, so approximate trees learn the prefix the worker now holds. */
  record(_input: RouteInput, _worker: WorkerRecord): void {}
}
