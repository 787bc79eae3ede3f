import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

const libs = ['runtime', 'radix-tree', 'swim', 'crdt-sync', 'mesh', 'routing', 'tokenizer', 'worker-proto', 'mock-worker', 'multimodal'];
const alias = Object.fromEntries(
  libs.map((name) => [`@drover/${name}`, fileURLToPath(new URL(`./libs/${name}/src/index.ts`, import.meta.url))]),
);

export default defineConfig({
  resolve: { alias },
  test: {
    include: ['libs/**/*.spec.ts', 'src/**/*.spec.ts', 'test/**/*.spec.ts', 'loadgen/**/*.spec.ts', 'mesh-sim/**/*.spec.ts', 'bench/**/*.spec.ts'],
    exclude: ['node_modules', 'dist'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
