import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

const libs = ['runtime', 'radix-tree', 'swim', 'crdt-sync', 'mesh', 'routing', 'tokenizer', 'worker-proto', 'mock-worker', 'multimodal', 'parsers'];
const alias = Object.fromEntries(
  libs.map((name) => [`@drover/${name}`, fileURLToPath(new URL(`./libs/${name}/src/index.ts`, import.meta.url))]),
);

// `npm test` runs two passes: everything else in parallel, then the timing-sensitive
// `*.serial.spec.ts` files (real processes with real timeouts) alone, one at a time.
const serial = process.env.DROVER_TEST_PASS === 'serial';
const include = ['libs/**/*.spec.ts', 'src/**/*.spec.ts', 'test/**/*.spec.ts', 'loadgen/**/*.spec.ts', 'mesh-sim/**/*.spec.ts', 'bench/**/*.spec.ts'];

export default defineConfig({
  resolve: { alias },
  test: {
    include: serial ? include.map((g) => g.replace(/\.spec\.ts$/, '.serial.spec.ts')) : include,
    exclude: ['node_modules', 'dist', ...(serial ? [] : ['**/*.serial.spec.ts'])],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: serial ? 1 : 2,
  },
});
