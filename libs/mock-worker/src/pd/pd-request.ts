import type { WorkerProtocol } from '@drover/worker-proto';

/** The mock engine's disaggregation role: co-located (regular), prefill-only or decode-only. */
export const MOCK_ROLES = ['regular', 'prefill', 'decode'] as const;
export type MockRole = (typeof MOCK_ROLES)[number];

/** Where a disaggregated request's KV goes or comes from. */
export interface PdPlan {
  /** The transfer's key at the prefill's bootstrap server (unset: a vLLM prefill makes one up). */
  room?: string;
  /** The prefill's bootstrap server (the decode side fetches from it). */
  host?: string;
  port?: number;
}

export type PdRead = { ok: true; plan: PdPlan } | { ok: false; message: string };

/**
 * Reads a Generate request's disaggregation parameters the way each engine does: SGLang's
 * `disaggregated_params` (bootstrap host, port, room; the same on both sides), vLLM's
 * `kv_transfer_params_json` (prefill: do_remote_decode; decode: what the prefill returned).
 * A prefill or decode engine refuses a request without them (it cannot serve one alone).
 */
export function readPdParams(protocol: WorkerProtocol, role: Exclude<MockRole, 'regular'>, r: any): PdRead {
  if (protocol === 'sglang') {
    const d = r.disaggregated_params;
    if (!d || !d.bootstrap_host || !(Number(d.bootstrap_port) > 0)) return { ok: false, message: `this is a ${role} engine: the request needs disaggregated_params (bootstrap_host, bootstrap_port, bootstrap_room)` };
    return { ok: true, plan: { room: String(d.bootstrap_room ?? 0), host: String(d.bootstrap_host), port: Number(d.bootstrap_port) } };
  }
  let params: Record<string, unknown>;
  try {
    params = JSON.parse(typeof r.kv_transfer_params_json === 'string' && r.kv_transfer_params_json !== '' ? r.kv_transfer_params_json : 'null') ?? {};
  } catch {
    return { ok: false, message: 'kv_transfer_params_json is not JSON' };
  }
  if (role === 'prefill') {
    if (params.do_remote_decode !== true) return { ok: false, message: 'this is a prefill engine (kv_producer): the request needs kv_transfer_params_json with do_remote_decode true' };
    return { ok: true, plan: {} };
  }
  if (params.do_remote_prefill !== true || typeof params.remote_host !== 'string' || typeof params.remote_port !== 'number' || typeof params.remote_request_id !== 'string') {
    return { ok: false, message: 'this is a decode engine (kv_consumer): the request needs the prefill\'s kv_transfer_params_json (do_remote_prefill, remote_host, remote_port, remote_request_id)' };
  }
  return { ok: true, plan: { room: params.remote_request_id, host: params.remote_host, port: params.remote_port } };
}

/** What a vLLM prefill returns for its decode side (NIXL-style parameters). */
export function vllmTransferParams(engineId: string, host: string, port: number, room: string, blocks: number): string {
  return JSON.stringify({
    do_remote_prefill: true,
    do_remote_decode: false,
    remote_engine_id: engineId,
    remote_block_ids: Array.from({ length: blocks }, (_, i) => i),
    remote_host: host,
    remote_port: port,
    remote_request_id: room,
    tp_size: 1,
  });
}

/** The role as the engines report it: SGLang's server_args, vLLM's kv connector fields. */
export function pdServerInfo(protocol: WorkerProtocol, role: MockRole, bootstrapPort: number, info: Record<string, any>): Record<string, unknown> {
  if (role === 'regular') return info;
  if (protocol === 'vllm') return { ...info, kv_connector: 'NixlConnector', kv_role: role === 'prefill' ? 'kv_producer' : 'kv_consumer' };
  const fields = { ...(info.server_args?.fields ?? {}), disaggregation_mode: { stringValue: role }, ...(role === 'prefill' ? { disaggregation_bootstrap_port: { numberValue: bootstrapPort } } : {}) };
  return { ...info, server_args: { fields } };
}
