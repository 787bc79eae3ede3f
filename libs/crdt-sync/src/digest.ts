import { hashString32 } from '@drover/runtime';
import type { ShardVersion } from './shard/shard-codec';

/** A short fingerprint of per-origin shard versions: equal on two nodes that hold the same. */
export function shardVersionsDigest(versions: ReadonlyMap<string, ShardVersion>): string {
  const text = [...versions]
    .map(([origin, v]) => `${origin}=${v.epoch.toString(16)}:${v.seq}`)
    .sort()
    .join(',');
  return (hashString32(text) >>> 0).toString(16).padStart(8, '0') + (hashString32(`#${text}`) >>> 0).toString(16).padStart(8, '0');
}
