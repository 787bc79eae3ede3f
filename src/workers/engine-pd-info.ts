import type { WorkerClient } from '@drover/worker-proto';
import type { WorkerRole } from './worker-record';

/** What an engine says about its own disaggregation setup (GetServerInfo). */
export interface EnginePdInfo {
  /** undefined: the engine does not say, or can serve either side (vLLM kv_both). */
  role: WorkerRole | undefined;
  /** SGLang prefill engines: server_args.disaggregation_bootstrap_port. */
  bootstrapPort: number | undefined;
}

type StructValue = { numberValue?: number; stringValue?: string };

/**
 * SGLang reports `server_args.disaggregation_mode` (null / prefill / decode) and the bootstrap
 * port; vLLM its KV connector's `kv_role` (kv_producer / kv_consumer / kv_both). An engine that
 * does not answer tells nothing: the worker spec decides alone.
 */
export async function readEnginePdInfo(client: WorkerClient, deadlineMs: number): Promise<EnginePdInfo> {
  let info: Record<string, unknown>;
  try {
    info = await client.getServerInfo({ deadlineMs });
  } catch {
    return { role: undefined, bootstrapPort: undefined };
  }
  if (client.protocol === 'vllm') {
    const kvRole = typeof info.kv_role === 'string' ? info.kv_role : '';
    return { role: kvRole === 'kv_producer' ? 'prefill' : kvRole === 'kv_consumer' ? 'decode' : kvRole === 'kv_both' ? undefined : 'regular', bootstrapPort: undefined };
  }
  const fields = ((info.server_args as { fields?: Record<string, StructValue> } | null | undefined)?.fields ?? {}) as Record<string, StructValue>;
  const mode = fields.disaggregation_mode?.stringValue;
  const port = fields.disaggregation_bootstrap_port?.numberValue;
  return {
    role: mode === 'prefill' || mode === 'decode' ? mode : 'regular',
    bootstrapPort: typeof port === 'number' && Number.isInteger(port) && port > 0 && port < 65536 ? port : undefined,
  };
}
