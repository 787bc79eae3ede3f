/**
 * The cost of moving a prompt's KV cache from a prefill engine to a decode engine: its size grows
 * with the prompt (bytes per token: layers × 2 (K and V) × KV heads × head dim × dtype bytes), and
 * the transfer takes a fixed latency plus size over the link's bandwidth.
 */
export interface KvTransferConfig {
  /** Link bandwidth in gigabits per second (RDMA NICs: 100-400). */
  gbps: number;
  /** Fixed cost per transfer (handshake, registration), in ms. */
  latencyMs: number;
  /** KV bytes per prompt token; the default is an 8B model in fp16 (32 layers × 2 × 8 heads × 128 × 2 B). */
  bytesPerToken: number;
}

export const DEFAULT_KV_TRANSFER: KvTransferConfig = { gbps: 100, latencyMs: 1, bytesPerToken: 131_072 };

export function kvBytes(tokens: number, c: KvTransferConfig): number {
  return tokens * c.bytesPerToken;
}

export function kvTransferMs(tokens: number, c: KvTransferConfig): number {
  return c.latencyMs + (kvBytes(tokens, c) * 8) / (c.gbps * 1e9) * 1000;
}
