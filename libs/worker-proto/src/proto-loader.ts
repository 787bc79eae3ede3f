import { loadPackageDefinition, type GrpcObject } from '@grpc/grpc-js';
import { loadSync, type Options } from '@grpc/proto-loader';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Loader options: field names as on the wire, int64 as decimal strings, defaults filled, oneofs named. */
export const PROTO_OPTIONS: Options = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };

/** Finds the repository's proto/ directory from src (vitest) or dist (compiled) alike. */
export function protoDir(start = __dirname): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'proto', 'sglang_scheduler.proto'))) return join(dir, 'proto');
    if (dirname(dir) === dir) throw new Error(`proto/ not found above ${start}`);
  }
}

let cached: GrpcObject | undefined;

/** The engine packages (sglang.grpc.scheduler, vllm.grpc.engine, smg.grpc.common), loaded once. */
export function enginePackages(): GrpcObject {
  if (!cached) {
    const def = loadSync(['sglang_scheduler.proto', 'vllm_engine.proto', 'common.proto'], { ...PROTO_OPTIONS, includeDirs: [protoDir()] });
    cached = loadPackageDefinition(def);
  }
  return cached;
}

export function lookup(pkg: GrpcObject, path: string): any {
  return path.split('.').reduce<any>((o, k) => (o ? o[k] : undefined), pkg);
}

/** Fully-qualified service names, as engines answer them. */
export const SERVICES = {
  sglang: 'sglang.grpc.scheduler.SglangScheduler',
  vllm: 'vllm.grpc.engine.VllmEngine',
} as const;
