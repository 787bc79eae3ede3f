import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '../..');
const SCRIPT = join(ROOT, 'scripts/build.js');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { staleReason, STAMP } = require(SCRIPT) as { staleReason: (root: string) => string | undefined; STAMP: string };

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A tiny project laid out like this one: tsconfig.build.json including src/, the repo's compilers. */
function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'drover-build-'));
  dirs.push(dir);
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  writeFileSync(join(dir, 'package.json'), '{"name":"fixture","private":true}\n');
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'commonjs', strict: true, skipLibCheck: true, lib: ['ES2022'], rootDir: '.', outDir: 'dist', types: [] } }));
  writeFileSync(join(dir, 'tsconfig.build.json'), JSON.stringify({ extends: './tsconfig.json', include: ['src'], exclude: ['**/*.spec.ts'] }));
  mkdirSync(join(dir, 'src/sub'), { recursive: true });
  writeFileSync(join(dir, 'src/hello.ts'), "export const greeting = 'hello one';\n");
  writeFileSync(join(dir, 'src/sub/other.ts'), 'export const other = 1;\n');
  return dir;
}

/** Sets a path's modification time, seconds from now (no waiting on the clock). */
const age = (p: string, secondsFromNow: number) => {
  const t = new Date(Date.now() + secondsFromNow * 1000);
  utimesSync(p, t, t);
};

/** Backdates every input of the fixture, then stamps it as built now. */
function stampFresh(dir: string): void {
  for (const p of ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'src', 'src/sub', 'src/hello.ts', 'src/sub/other.ts']) if (existsSync(join(dir, p))) age(join(dir, p), -60);
  mkdirSync(join(dir, 'dist'), { recursive: true });
  writeFileSync(join(dir, STAMP), 'test\n');
  age(join(dir, STAMP), 0);
}

const entry = (dir: string) => spawnSync(process.execPath, [SCRIPT, '--if-stale'], { cwd: dir, encoding: 'utf8' });

describe('scripts/build.js: rebuild only when an input changed', () => {
  it('is stale with no build, fresh after one, and stale again for each kind of change that matters', () => {
    const dir = project();
    expect(staleReason(dir)).toBe('no build yet');
    stampFresh(dir);
    expect(staleReason(dir)).toBeUndefined();

    age(join(dir, 'src/sub/other.ts'), 5); // an edited source, however deep
    expect(staleReason(dir)).toMatch(/src\/sub\/other\.ts changed/);
    stampFresh(dir);

    writeFileSync(join(dir, 'src/sub/other.spec.ts'), 'test'); // specs are not built
    age(join(dir, 'src/sub'), -60);
    expect(staleReason(dir)).toBeUndefined();

    unlinkSync(join(dir, 'src/sub/other.ts')); // a deleted source changes its directory
    expect(staleReason(dir)).toMatch(/src\/sub\/ changed/);
    stampFresh(dir);

    age(join(dir, 'tsconfig.json'), 5); // compiler options
    expect(staleReason(dir)).toMatch(/tsconfig\.json changed/);
  });

  it('an entry point compiles on the first run, starts without compiling when nothing changed, and recompiles after an edit', () => {
    const dir = project();
    const run = () => spawnSync(process.execPath, ['-p', `require(${JSON.stringify(join(dir, 'dist/src/hello.js'))}).greeting`], { encoding: 'utf8' }).stdout;

    const first = entry(dir);
    expect(first.status).toBe(0);
    expect(first.stderr).toContain('no build yet; compiling');
    expect(run()).toBe('hello one\n');
    const built = statSync(join(dir, 'dist/src/hello.js')).mtimeMs;

    const again = entry(dir);
    expect(again.status).toBe(0);
    expect(again.stderr).toBe('');
    expect(statSync(join(dir, 'dist/src/hello.js')).mtimeMs).toBe(built);

    writeFileSync(join(dir, 'src/hello.ts'), "export const greeting = 'hello two';\n");
    age(join(dir, 'src/hello.ts'), 5);
    const edited = entry(dir);
    expect(edited.stderr).toContain('src/hello.ts changed');
    expect(run()).toBe('hello two\n');
  }, 120_000);

  it('entry points started together after a change compile once', async () => {
    const dir = project();
    const start = () =>
      new Promise<{ status: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [SCRIPT, '--if-stale'], { cwd: dir });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('close', (status) => resolve({ status, stderr }));
      });
    const runs = await Promise.all([start(), start(), start()]);
    expect(runs.map((r) => r.status)).toEqual([0, 0, 0]);
    expect(runs.filter((r) => r.stderr.includes('compiling')).length).toBe(1);
    expect(existsSync(join(dir, 'dist/.build-lock'))).toBe(false);
    expect(staleReason(dir)).toBeUndefined();
  }, 120_000);

  it('a compile error fails the entry point and leaves the build stale', () => {
    const dir = project();
    writeFileSync(join(dir, 'src/hello.ts'), 'const x: number = "no";\n');
    const r = entry(dir);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('TS2322');
    expect(staleReason(dir)).toBe('no build yet');
  }, 120_000);

  it('every npm run entry point goes through it; build and npm test still compile every time', () => {
    const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.build).toBe('node scripts/build.js');
    for (const name of ['start', 'demo', 'worker', 'keygen', 'bench', 'mesh-sim', 'loadgen', 'validate']) {
      expect(scripts[name], name).toMatch(/^node scripts\/build\.js --if-stale && node dist\//);
    }
    for (const [name, command] of Object.entries(scripts)) expect(command, name).not.toContain('npm run -s build &&');
    expect(readFileSync(join(ROOT, 'scripts/test.sh'), 'utf8')).toContain('npm run -s build ||');
    expect(readFileSync(join(ROOT, 'Dockerfile'), 'utf8')).toContain('COPY scripts/build.js');
  });
});
