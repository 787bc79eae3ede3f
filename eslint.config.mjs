// Lint enforces the dependency edges of ARCHITECTURE §2: a lib may import only the @drover/*
// libs listed for it, nobody deep-imports a lib (its index.ts is its API), libs never import
// Nest, and protocol cores never read the wall clock or global randomness.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const LIBS = ['runtime', 'radix-tree', 'swim', 'crdt-sync', 'mesh', 'routing', 'tokenizer', 'worker-proto', 'mock-worker', 'multimodal', 'parsers'];
const ALLOWED = {
  runtime: [],
  'radix-tree': [],
  swim: ['runtime'],
  'crdt-sync': ['runtime', 'swim', 'radix-tree'],
  mesh: ['runtime', 'swim', 'crdt-sync', 'radix-tree'],
  routing: ['runtime', 'radix-tree'],
  tokenizer: [],
  'worker-proto': [],
  'mock-worker': ['runtime', 'worker-proto'],
  multimodal: [],
  parsers: ['runtime'],
};
const PROTOCOL_CORES = ['swim', 'crdt-sync', 'mesh', 'routing', 'radix-tree', 'mock-worker', 'parsers'];
const deepImports = { group: ['@drover/*/*'], message: "Import a lib through its index: '@drover/<name>'." };

function restrictImportsFor(lib) {
  const forbidden = LIBS.filter((other) => other !== lib && !ALLOWED[lib].includes(other)).map((n) => `@drover/${n}`);
  return {
    files: [`libs/${lib}/src/**/*.ts`],
    rules: {
      'no-restricted-imports': ['error', {
        paths: forbidden.map((name) => ({ name, message: `libs/${lib} may not depend on ${name} (ARCHITECTURE §2).` })),
        patterns: [deepImports, { group: ['@nestjs/*'], message: 'Libraries are framework-free.' }, { group: ['../../*/src/*', '../../../*'], message: 'Cross-lib relative imports are forbidden; use @drover/<name>.' }],
      }],
    },
  };
}

const wallClock = [
  { object: 'Date', property: 'now', message: 'Inject a Clock (ARCHITECTURE §3).' },
  { object: 'Math', property: 'random', message: 'Inject an Rng (ARCHITECTURE §3).' },
  { object: 'performance', property: 'now', message: 'Inject a Clock (ARCHITECTURE §3).' },
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
      'no-restricted-imports': ['error', { patterns: [deepImports] }],
    },
  },
  ...LIBS.map(restrictImportsFor),
  {
    files: PROTOCOL_CORES.map((lib) => `libs/${lib}/src/**/*.ts`),
    ignores: ['**/*.spec.ts', '**/testing/**', '**/cli.ts', '**/server/**'],
    rules: {
      'no-restricted-properties': ['error', ...wallClock],
      'no-restricted-globals': ['error', { name: 'setTimeout', message: 'Inject Timers.' }, { name: 'setInterval', message: 'Inject Timers.' }],
    },
  },
  {
    // The gateway must not agree with the mock by sharing its code (block hashes, ids): it talks to
    // real engines. Only the demo, which starts mock workers next to a gateway, may import it.
    files: ['src/**/*.ts'],
    ignores: ['src/demo.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: '@drover/mock-worker', message: 'Gateway code never imports the mock worker (only src/demo.ts starts one).' }], patterns: [deepImports] }],
    },
  },
  {
    files: ['mesh-sim/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [deepImports, { group: ['../src/*', '../../src/*', '**/src/*'], message: 'mesh-sim uses @drover/* only, never src/.' }] }] },
  },
  {
    files: ['loadgen/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['@drover/*', '../src/*', '../libs/*'], message: 'loadgen imports nothing internal.' }] }] },
  },
);
