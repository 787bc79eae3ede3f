import { createHash } from 'node:crypto';
import { decodeOps, encodeOps, type PrefixShards, type TreeOp } from '@drover/radix-tree';

/** A routing op of one model (the mesh has one shard channel for all models). */
export interface ModelOp {
  model: string;
  op: TreeOp;
}

const MAX_MODELS = 256;

/**
 * The crdt-sync ShardAdapter over every model's PrefixShards: a batch is `[n][model][ops bytes]…`,
 * a snapshot is `[n][model][snapshot bytes]…`. Decoders cap counts and never throw.
 */
export class ModelShardsAdapter {
  constructor(private readonly shardsFor: (model: string) => PrefixShards, private readonly models: () => string[]) {}

  encodeOps(ops: readonly ModelOp[]): Uint8Array {
    const byModel = new Map<string, TreeOp[]>();
    for (const { model, op } of ops) byModel.set(model, [...(byModel.get(model) ?? []), op]);
    return pack([...byModel].map(([model, list]) => [model, encodeOps(list)]));
  }

  decodeOps(bytes: Uint8Array, maxOps: number): ModelOp[] | undefined {
    const parts = unpack(bytes);
    if (!parts) return undefined;
    const out: ModelOp[] = [];
    for (const [model, body] of parts) {
      const ops = decodeOps(body, maxOps - out.length);
      if (!ops) return undefined;
      for (const op of ops) out.push({ model, op });
    }
    return out;
  }

  applyOp(origin: string, op: ModelOp): void {
    this.shardsFor(op.model).applyOp(origin, op.op);
  }

  encodeSnapshot(): Uint8Array {
    return pack(this.models().map((m) => [m, this.shardsFor(m).encodeSnapshot()]));
  }

  applySnapshot(origin: string, bytes: Uint8Array): boolean {
    const parts = unpack(bytes);
    if (!parts) return false;
    const seen = new Set<string>();
    for (const [model, body] of parts) {
      if (!this.shardsFor(model).applySnapshot(origin, body)) return false;
      seen.add(model);
    }
    // The snapshot replaces everything held for that origin, models it no longer routes included.
    for (const m of this.models()) if (!seen.has(m)) this.shardsFor(m).dropOrigin(origin);
    return true;
  }

  /** One fingerprint over every model's tree of that origin (models holding nothing left out, so a model known on one node only does not count). */
  contentDigest(origin?: string): string {
    const parts = this.models()
      .map((m) => [m, this.shardsFor(m).contentDigest(origin)] as const)
      .filter(([, d]) => d !== 'empty')
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    if (parts.length === 0) return 'empty';
    return createHash('sha256').update(parts.map(([m, d]) => `${m}=${d}`).join('\n')).digest('hex').slice(0, 32);
  }
}

function pack(parts: [string, Uint8Array][]): Uint8Array {
  const enc = new TextEncoder();
  const names = parts.map(([m]) => enc.encode(m));
  let size = 2;
  parts.forEach(([, b], i) => (size += 2 + names[i].length + 4 + b.length));
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint16(0, parts.length);
  let at = 2;
  parts.forEach(([, body], i) => {
    view.setUint16(at, names[i].length);
    out.set(names[i], at + 2);
    at += 2 + names[i].length;
    view.setUint32(at, body.length);
    out.set(body, at + 4);
    at += 4 + body.length;
  });
  return out;
}

function unpack(bytes: Uint8Array): [string, Uint8Array][] | undefined {
  if (bytes.length < 2) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getUint16(0);
  if (n > MAX_MODELS) return undefined;
  const out: [string, Uint8Array][] = [];
  let at = 2;
  const dec = new TextDecoder();
  for (let i = 0; i < n; i++) {
    if (at + 2 > bytes.length) return undefined;
    const nameLen = view.getUint16(at);
    if (at + 2 + nameLen + 4 > bytes.length) return undefined;
    const name = dec.decode(bytes.subarray(at + 2, at + 2 + nameLen));
    at += 2 + nameLen;
    const len = view.getUint32(at);
    if (at + 4 + len > bytes.length) return undefined;
    out.push([name, bytes.subarray(at + 4, at + 4 + len)]);
    at += 4 + len;
  }
  return at === bytes.length ? out : undefined;
}
