/** What a node tells the mesh about itself, carried in its SWIM metadata (bounded JSON). */
export interface NodeMetadata {
  /** Client-facing HTTP URL. */
  http: string;
  /** State-sync address (host:port). */
  sync: string;
  /** Drover version, for rolling upgrades. */
  v: string;
}

const MAX_METADATA_BYTES = 512;

export function encodeMetadata(m: NodeMetadata): Uint8Array {
  const bytes = new TextEncoder().encode(JSON.stringify(m));
  if (bytes.length > MAX_METADATA_BYTES) throw new RangeError(`node metadata exceeds ${MAX_METADATA_BYTES} bytes`);
  return bytes;
}

export function decodeMetadata(bytes: Uint8Array): NodeMetadata | undefined {
  if (bytes.length === 0 || bytes.length > MAX_METADATA_BYTES) return undefined;
  try {
    const m = JSON.parse(new TextDecoder().decode(bytes)) as Partial<NodeMetadata>;
    if (typeof m.http !== 'string' || typeof m.sync !== 'string') return undefined;
    return { http: m.http, sync: m.sync, v: typeof m.v === 'string' ? m.v : '' };
  } catch {
    return undefined;
  }
}
