import type { ModelInfo } from '@drover/worker-proto';
import type { Egress } from '../egress/egress';
import { HttpUpstreamClient, type UpstreamHealth } from './http-upstream-client';
import type { WorkerRecord } from './worker-record';

/**
 * Connects an http(s):// worker: `GET /v1/models` names the model it serves (the spec's model
 * when the upstream lists it, else the first id) and, when reported, the context length. The
 * client-facing name is the spec's model, else --model-name, else the upstream's own.
 * Throws when the upstream cannot be reached or lists no model; the record is untouched then.
 */
export async function connectHttpWorker(record: WorkerRecord, modelNameOverride: string | undefined, timeoutMs: number, egress?: Egress): Promise<void> {
  // Under the worker egress policy: the checked address is the one connected to (no DNS rebinding).
  egress?.checkUrl(new URL(record.spec.url));
  const client = new HttpUpstreamClient(record.spec.url, egress ? { connect: egress.connectOptions } : {});
  let models;
  try {
    models = await client.listModels(timeoutMs);
  } catch (err) {
    client.close();
    throw err;
  }
  const chosen = models.find((m) => m.id === record.spec.model) ?? models[0];
  record.http?.close();
  record.http = client;
  record.upstreamModel = chosen.id;
  record.protocol = undefined;
  record.modelInfo = httpModelInfo(chosen.id, chosen.maxModelLen);
  record.model = record.spec.model ?? modelNameOverride ?? chosen.id;
}

export function checkHttpWorker(record: WorkerRecord, timeoutMs: number): Promise<UpstreamHealth> {
  return record.http!.health(timeoutMs);
}

/**
 * What the model catalog needs, for a worker the gateway never tokenizes for: no EOS ids, and a
 * context length of 0 (unknown: the catalog then places no limit) when the upstream reports none.
 */
function httpModelInfo(id: string, maxModelLen: number | undefined): ModelInfo {
  return {
    servedModelName: id,
    modelPath: '',
    tokenizerPath: '',
    maxContextLength: maxModelLen ?? 0,
    vocabSize: 0,
    eosTokenIds: [],
    isGeneration: true,
    supportsVision: false,
  };
}
