import { Reader, Writer } from './bytes';
import { DEFAULT_TREE_LIMITS, type TreeCodecLimits } from './limits';
import type { RadixTree } from './radix-tree';
import { hashPrefix, PREFIX_STRIDE, type PrefixHash } from './prefix-hash';

/**
 * Delta ops on a tree. Inserts carry their logical time, so applying a set of ops in any order
 * (or twice) leaves the same owners and times (max wins): idempotent and commutative.
 */
export type TreeOp =
  | {
      kind: 'insert';
      seq: Uint32Array;
      owner: string;
      time: number;
      /**
       * Length of a prefix of `seq` the sender had already shipped (a multiple of PREFIX_STRIDE).
       * On the wire the op then carries that prefix's hash and only the rest of the tokens.
       */
      baseLen?: number;
    }
  | { kind: 'insert_ref'; base: PrefixHash; baseLen: number; suffix: Uint32Array; owner: string; time: number }
  | { kind: 'remove_owner'; owner: string; time: number }
  /** Takes back the insert of `seq` by `owner` at `time` past its first `keepLen` tokens (a request that failed before its first token). */
  | { kind: 'withdraw'; seq: Uint32Array; owner: string; time: number; keepLen: number };

const MAGIC = 0x4f; // 'O'
const VERSION = 1;
const INSERT = 1;
const REMOVE_OWNER = 2;
const INSERT_REF = 3;
const WITHDRAW = 4;

/** Applies a resolved op (an `insert_ref` must first be resolved against the origin's prefixes). */
export function applyOp(tree: RadixTree, op: TreeOp): void {
  if (op.kind === 'insert') tree.insert(op.seq, op.owner, op.time);
  else if (op.kind === 'remove_owner') tree.removeOwner(op.owner, op.time);
  else if (op.kind === 'withdraw') tree.withdraw(op.seq, op.owner, op.time, op.keepLen);
}

/**
 * `[magic][version][owners][count][op...]`; an insert (or a withdrawal) stores only what differs
 * from the previous one in the batch (shared prefix length + suffix), which is most of a
 * multi-turn prompt. A withdrawal (kind 4) was added within version 1: batches without one encode
 * exactly as before.
 */
export function encodeOps(ops: readonly TreeOp[]): Uint8Array {
  const owners = new Map<string, number>();
  for (const op of ops) if (!owners.has(op.owner)) owners.set(op.owner, owners.size);
  const w = new Writer();
  w.u8(MAGIC);
  w.u8(VERSION);
  w.varint(owners.size);
  for (const o of owners.keys()) w.string(o);
  w.varint(ops.length);
  let prev: Uint32Array = new Uint32Array(0);
  for (const op of ops) {
    if (op.kind === 'insert_ref') throw new Error('insert_ref ops are decoded, never encoded');
    const base = op.kind === 'insert' && op.baseLen && op.baseLen >= PREFIX_STRIDE && op.baseLen <= op.seq.length ? op.baseLen : 0;
    w.u8(op.kind === 'remove_owner' ? REMOVE_OWNER : op.kind === 'withdraw' ? WITHDRAW : base > 0 ? INSERT_REF : INSERT);
    w.varint(owners.get(op.owner)!);
    w.varint(op.time);
    if (op.kind === 'insert' && base > 0) {
      const h = hashPrefix(op.seq, base);
      w.varint(base);
      w.varint(h.a);
      w.varint(h.b);
      w.varint(op.seq.length - base);
      for (let i = base; i < op.seq.length; i++) w.varint(op.seq[i]);
    } else if (op.kind === 'insert' || op.kind === 'withdraw') {
      if (op.kind === 'withdraw') w.varint(op.keepLen);
      let shared = 0;
      const n = Math.min(prev.length, op.seq.length);
      while (shared < n && prev[shared] === op.seq[shared]) shared++;
      w.varint(shared);
      w.varint(op.seq.length - shared);
      for (let i = shared; i < op.seq.length; i++) w.varint(op.seq[i]);
      prev = op.seq;
    }
  }
  return w.finish();
}

export function decodeOps(bytes: Uint8Array, maxOps = DEFAULT_TREE_LIMITS.maxOps, limits: Partial<TreeCodecLimits> = {}): TreeOp[] | undefined {
  const lim = { ...DEFAULT_TREE_LIMITS, ...limits };
  if (bytes.length > lim.maxBytes) return undefined;
  const r = new Reader(bytes);
  if (r.u8() !== MAGIC || r.u8() !== VERSION) return undefined;
  const ownerCount = r.varint();
  if (ownerCount === undefined || ownerCount > lim.maxOwners || ownerCount > r.remaining) return undefined;
  const owners: string[] = [];
  for (let i = 0; i < ownerCount; i++) {
    const o = r.string(lim.maxOwnerNameBytes);
    if (o === undefined) return undefined;
    owners.push(o);
  }
  const count = r.varint();
  if (count === undefined || count > maxOps || count > r.remaining) return undefined;
  const ops: TreeOp[] = [];
  let prev: Uint32Array = new Uint32Array(0);
  for (let k = 0; k < count; k++) {
    const kind = r.u8();
    const idx = r.varint();
    const time = r.varint();
    if (idx === undefined || time === undefined || idx >= ownerCount) return undefined;
    if (kind === REMOVE_OWNER) {
      ops.push({ kind: 'remove_owner', owner: owners[idx], time });
      continue;
    }
    if (kind === INSERT_REF) {
      const baseLen = r.varint();
      const a = r.varint();
      const b = r.varint();
      const n = r.varint();
      if (baseLen === undefined || a === undefined || b === undefined || n === undefined || a > 0xffffffff || b > 0xffffffff) return undefined;
      if (n > r.remaining || baseLen + n > lim.maxSeqLength) return undefined;
      const suffix = new Uint32Array(n);
      for (let i = 0; i < n; i++) {
        const t = r.varint();
        if (t === undefined || t > 0xffffffff) return undefined;
        suffix[i] = t;
      }
      ops.push({ kind: 'insert_ref', base: { a, b }, baseLen, suffix, owner: owners[idx], time });
      continue;
    }
    if (kind !== INSERT && kind !== WITHDRAW) return undefined;
    const keepLen = kind === WITHDRAW ? r.varint() : 0;
    if (keepLen === undefined || keepLen > lim.maxSeqLength) return undefined;
    const shared = r.varint();
    const suffix = r.varint();
    if (shared === undefined || suffix === undefined || shared > prev.length || suffix > r.remaining || shared + suffix > lim.maxSeqLength) return undefined;
    const seq = new Uint32Array(shared + suffix);
    seq.set(prev.subarray(0, shared));
    for (let i = 0; i < suffix; i++) {
      const t = r.varint();
      if (t === undefined || t > 0xffffffff) return undefined;
      seq[shared + i] = t;
    }
    ops.push(kind === WITHDRAW ? { kind: 'withdraw', seq, owner: owners[idx], time, keepLen } : { kind: 'insert', seq, owner: owners[idx], time });
    prev = seq;
  }
  return r.remaining === 0 ? ops : undefined;
}
