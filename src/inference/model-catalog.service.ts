import { Inject, Injectable } from '@nestjs/common';
import { DroverError } from '@drover/runtime';
import { WorkerRegistryService } from '../workers/worker-registry.service';

export interface ServedModel {
  id: string;
  maxContextLength: number;
  eosTokenIds: number[];
  workers: number;
  created: number;
}

/** The models this node serves: every model name a registered, connected worker reports. */
@Injectable()
export class ModelCatalogService {
  constructor(@Inject(WorkerRegistryService) private readonly registry: WorkerRegistryService) {}

  list(): ServedModel[] {
    const byName = new Map<string, ServedModel>();
    for (const w of this.registry.list()) {
      if (!w.model || !w.modelInfo) continue;
      const m = byName.get(w.model);
      const ctx = w.modelInfo.maxContextLength > 0 ? w.modelInfo.maxContextLength : Number.MAX_SAFE_INTEGER;
      if (!m) {
        byName.set(w.model, {
          id: w.model,
          maxContextLength: ctx,
          eosTokenIds: [...w.modelInfo.eosTokenIds],
          workers: 1,
          created: Math.floor(w.createdAt / 1000),
        });
      } else {
        m.maxContextLength = Math.min(m.maxContextLength, ctx);
        m.workers++;
      }
    }
    return [...byName.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  resolve(model: string): ServedModel {
    const found = this.list().find((m) => m.id === model);
    if (!found) {
      throw new DroverError('model_not_found', `The model '${model}' does not exist or you do not have access to it.`, { param: 'model' });
    }
    return found;
  }
}
