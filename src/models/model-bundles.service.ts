import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { defaultTokenizerDir } from '@drover/tokenizer';
import { status } from '@grpc/grpc-js';
import { DroverError, type Logger } from '@drover/runtime';
import { WorkerRpcError } from '@drover/worker-proto';
import type { GatewayConfig } from '../config/options';
import { CONFIG, LOGGER } from '../runtime/tokens';
import { WorkerRegistryService } from '../workers/worker-registry.service';
import type { WorkerRecord } from '../workers/worker-record';
import { bundleFromFiles, type ModelBundle } from './model-bundle';
import { MODEL_FILES, readTokenizerArchive, type ModelFileName } from './tokenizer-archive';

/**
 * One bundle per served model: from --model-config (a local directory), else from the model's
 * workers (GetTokenizer, asked once per model when its first gRPC worker connects), else the
 * default (--tokenizer or the bundled Qwen3). Lookups on the request path are one Map read;
 * models whose files are byte-identical share one Tokenizer (and its caches) process-wide.
 */
@Injectable()
export class ModelBundleService implements OnModuleInit {
  private defaultBundle: ModelBundle | undefined;
  private readonly ready = new Map<string, ModelBundle>();
  private readonly loading = new Map<string, Promise<ModelBundle>>();

  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) private readonly log: Logger,
    @Inject(WorkerRegistryService) private readonly registry: WorkerRegistryService,
  ) {}

  onModuleInit(): void {
    const dir = this.config.tokenizer ?? defaultTokenizerDir();
    this.defaultBundle = bundleFromFiles(this.config.tokenizer ? basename(dir) : 'qwen3', readModelDir(dir), 'default');
    for (const [model, dir] of Object.entries(this.config.modelConfig ?? {})) {
      const bundle = bundleFromFiles(model, readModelDir(dir), 'local');
      this.ready.set(model, bundle);
      this.log.info({ model, dir, vocab: bundle.tokenizer.vocabSize }, 'model files loaded from --model-config');
    }
    // Ask a model's engine for its files as soon as it is known, so the first request finds them.
    this.registry.onChange((e) => {
      if (e.type !== 'removed' && e.worker.kind === 'grpc' && e.worker.model && e.worker.client) this.prefetch(e.worker.model);
    });
    for (const w of this.registry.list()) if (w.kind === 'grpc' && w.model && w.client) this.prefetch(w.model);
  }

  /** Starts fetching a model's files; a transient failure is logged in fromWorker and retried by the next request. */
  private prefetch(model: string): void {
    Promise.resolve(this.bundle(model)).catch(() => undefined);
  }

  /** The default bundle (--tokenizer or the bundled Qwen3). */
  get fallback(): ModelBundle {
    if (!this.defaultBundle) throw new Error('model bundles not loaded yet');
    return this.defaultBundle;
  }

  /** The model's bundle: a Map read once known; the first call per model may wait for its worker's files. */
  bundle(model: string): ModelBundle | Promise<ModelBundle> {
    return this.ready.get(model) ?? this.loading.get(model) ?? this.load(model);
  }

  /** Known bundles (for /v1/models); the default for a model whose files have not arrived yet. */
  peek(model: string): ModelBundle {
    return this.ready.get(model) ?? this.fallback;
  }

  private load(model: string): ModelBundle | Promise<ModelBundle> {
    const worker = this.registry.list().find((w) => w.model === model && w.kind === 'grpc' && w.client !== undefined);
    // No connected worker yet: the default, not remembered (routing will say what is wrong).
    if (!worker) return this.fallback;
    const pending = this.fromWorker(model, worker)
      .then((b) => {
        this.ready.set(model, b);
        return b;
      })
      .finally(() => this.loading.delete(model));
    this.loading.set(model, pending);
    return pending;
  }

  private async fromWorker(model: string, worker: WorkerRecord): Promise<ModelBundle> {
    try {
      const { archive, sha256 } = await worker.client!.getTokenizer({ deadlineMs: Math.max(this.config.workerConnectTimeoutMs, 30_000) });
      const bundle = bundleFromFiles(model, readTokenizerArchive(archive), 'worker');
      this.log.info({ model, worker: worker.id, sha256, bytes: archive.length, vocab: bundle.tokenizer.vocabSize }, 'model files received from the worker (GetTokenizer)');
      return bundle;
    } catch (err) {
      // A worker that could not answer now (deadline, unavailable, overloaded) is asked again by
      // the next request: serving the model with the default tokenizer meanwhile would send the
      // engine ids of another vocabulary, for good.
      if (err instanceof WorkerRpcError && TRANSIENT.has(err.grpcCode)) {
        this.log.warn({ model, worker: worker.id, err: err.message }, 'model files not received from the worker yet; asking again on the next request');
        throw new DroverError('worker_unavailable', `The model files of '${model}' could not be fetched from its worker yet (${err.grpcName}).`, { retryAfterSeconds: 1 });
      }
      // An engine without GetTokenizer (or with a broken archive) is served with the default files.
      this.log.warn({ model, worker: worker.id, err: (err as Error).message }, 'no model files from the worker; using the default tokenizer');
      return this.fallback;
    }
  }
}

/** gRPC codes after which GetTokenizer is asked again rather than the default files used. */
const TRANSIENT: ReadonlySet<number> = new Set([status.DEADLINE_EXCEEDED, status.UNAVAILABLE, status.RESOURCE_EXHAUSTED, status.CANCELLED]);

/** The model files present in a local directory. */
export function readModelDir(dir: string): Map<ModelFileName, string> {
  const files = new Map<ModelFileName, string>();
  for (const name of MODEL_FILES) {
    const path = join(dir, name);
    if (existsSync(path)) files.set(name, readFileSync(path, 'utf8'));
  }
  if (!files.has('tokenizer.json')) throw new Error(`no tokenizer.json in ${dir}`);
  return files;
}
