import { Inject, Injectable } from '@nestjs/common';
import { DroverError } from '@drover/runtime';
import { WorkerRegistryService } from '../workers/worker-registry.service';
import type { WorkerRecord } from '../workers/worker-record';
import type { WorkerKind } from '../workers/worker-url';

export interface ServedModel {
  id: string;
  maxContextLength: number;
  eosTokenIds: number[];
  workers: number;
  created: number;
  /**
   * http when every connected worker of the model is an OpenAI-compatible HTTP upstream (requests
   * are proxied, not tokenized); grpc otherwise (a mixed model is served by its gRPC workers).
   */
  kind: WorkerKind;
  /** Every gRPC worker of the model reports supports_vision: requests may carry images. */
  supportsVision: boolean;
  /**
   * Every gRPC worker either reports supports_vision or speaks SGLang, whose servicer leaves the
   * field at its default (false) whatever the model: then the model's files decide (see acceptsImages).
   */
  visionFromFiles: boolean;
  /**
   * Every gRPC worker of the model takes a sampling seed (vLLM's contract has the field; SGLang's
   * has none): a seeded request is refused otherwise rather than silently unseeded.
   */
  readsSeed: boolean;
  /** Some gRPC worker of the model generates (model info `is_generation`): chat, completions. */
  generates: boolean;
  /** Some gRPC worker of the model is an embedding model (`is_generation` false): embeddings. */
  embeds: boolean;
}

/** Only vLLM's contract carries a seed (SGLang's SamplingParams has no such field). */
function readsSeed(w: WorkerRecord): boolean {
  return w.protocol === 'vllm';
}

/** SGLang's model info reports supports_vision false for every model (a default, not an answer). */
function visionFromFiles(w: WorkerRecord): boolean {
  return w.modelInfo!.supportsVision || w.protocol === 'sglang';
}

/** The models this node serves: every model name a registered, connected worker reports. */
@Injectable()
export class ModelCatalogService {
  private snapshot: { version: number; list: ServedModel[]; byName: Map<string, ServedModel> } | undefined;

  constructor(@Inject(WorkerRegistryService) private readonly registry: WorkerRegistryService) {}

  /** The served models, sorted by id: rebuilt only when the registry changed, shared otherwise. */
  list(): ServedModel[] {
    return this.current().list;
  }

  /** The kind serving a model, or undefined when no connected worker serves it. */
  kindOf(model: string): WorkerKind | undefined {
    return this.current().byName.get(model)?.kind;
  }

  /** The model, or undefined (O(1): requests for unknown models are refused before any work). */
  find(model: string): ServedModel | undefined {
    return this.current().byName.get(model);
  }

  resolve(model: string): ServedModel {
    const found = this.current().byName.get(model);
    if (!found) {
      throw new DroverError('model_not_found', `The model '${model}' does not exist or you do not have access to it.`, { param: 'model' });
    }
    return found;
  }

  private current(): { list: ServedModel[]; byName: Map<string, ServedModel> } {
    const version = this.registry.version;
    if (this.snapshot?.version !== version) {
      const list = this.build();
      this.snapshot = { version, list, byName: new Map(list.map((m) => [m.id, m])) };
    }
    return this.snapshot;
  }

  private build(): ServedModel[] {
    const byName = new Map<string, ServedModel>();
    for (const w of this.registry.workersSnapshot()) {
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
          kind: w.kind,
          supportsVision: w.kind === 'grpc' && w.modelInfo.supportsVision,
          visionFromFiles: w.kind === 'grpc' && visionFromFiles(w),
          readsSeed: w.kind === 'grpc' && readsSeed(w),
          generates: w.kind === 'grpc' && w.modelInfo.isGeneration,
          embeds: w.kind === 'grpc' && !w.modelInfo.isGeneration,
        });
      } else {
        m.maxContextLength = Math.min(m.maxContextLength, ctx);
        m.workers++;
        if (w.kind === 'grpc' && m.kind === 'http') {
          // A mixed model is served by its gRPC workers: their EOS ids are the ones that count.
          m.kind = 'grpc';
          m.eosTokenIds = [...w.modelInfo.eosTokenIds];
          m.supportsVision = w.modelInfo.supportsVision;
          m.visionFromFiles = visionFromFiles(w);
          m.readsSeed = readsSeed(w);
          m.generates = w.modelInfo.isGeneration;
          m.embeds = !w.modelInfo.isGeneration;
        } else if (w.kind === 'grpc') {
          // Any gRPC worker of the model may be routed to, so every one must take images (and seeds).
          m.supportsVision &&= w.modelInfo.supportsVision;
          m.visionFromFiles &&= visionFromFiles(w);
          m.readsSeed &&= readsSeed(w);
          m.generates ||= w.modelInfo.isGeneration;
          m.embeds ||= !w.modelInfo.isGeneration;
        }
      }
    }
    return [...byName.values()].sort((a, b) => a.id.localeCompare(b.id));
  }
}
