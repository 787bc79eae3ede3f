#!/usr/bin/env node
/**
 * The build, and the entry points' guard against rebuilding for nothing.
 *
 *   node scripts/build.js             compile (tsc, then tsc-alias for the @drover/* paths); `npm run build`
 *   node scripts/build.js --if-stale  compile only when an input is newer than the last build; every
 *                                     `npm run <entry point>` starts with this, so an unchanged tree
 *                                     starts at once instead of spending seconds in tsc
 *   node scripts/build.js --check     print why the build is stale (exit 1) or "fresh" (exit 0)
 *
 * Plain JavaScript: it runs before anything is compiled. A build leaves dist/.build-stamp with the
 * time the build *started*, so a file saved during a build still counts as newer. Inputs: every
 * file under tsconfig.build.json's include (test and spec files excepted) and each directory's own
 * time (a deleted or renamed file changes it), plus the package and tsconfig files. A fresh clone
 * has no dist/, so `npm ci && npm run demo` builds first.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const STAMP = path.join('dist', '.build-stamp');
const CONFIG_FILES = ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json'];
/** tsconfig.build.json excludes these from the build: editing them needs no rebuild. */
const NOT_BUILT = /\.(spec|test)\.ts$/;
const SKIPPED_DIRS = new Set(['node_modules', 'dist']);

function includedDirs(root) {
  const config = JSON.parse(fs.readFileSync(path.join(root, 'tsconfig.build.json'), 'utf8'));
  return config.include ?? [];
}

/** The first input newer than `since` (ms), as a path relative to root; undefined when none is. */
function newerInput(root, since) {
  for (const file of CONFIG_FILES) {
    const p = path.join(root, file);
    if (fs.existsSync(p) && fs.statSync(p).mtimeMs > since) return file;
  }
  const stack = includedDirs(root)
    .map((d) => path.join(root, d))
    .filter((d) => fs.existsSync(d));
  while (stack.length > 0) {
    const dir = stack.pop();
    if (fs.statSync(dir).mtimeMs > since) return path.relative(root, dir) + path.sep;
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRS.has(entry.name)) stack.push(p);
      } else if (!NOT_BUILT.test(entry.name) && fs.statSync(p).mtimeMs > since) {
        return path.relative(root, p);
      }
    }
  }
  return undefined;
}

/** Why root's dist/ is out of date, or undefined when it is fresh. */
function staleReason(root) {
  const stamp = path.join(root, STAMP);
  if (!fs.existsSync(stamp)) return 'no build yet';
  const changed = newerInput(root, fs.statSync(stamp).mtimeMs);
  return changed === undefined ? undefined : `${changed} changed since the last build`;
}

/** Compiles root; returns the exit status. Compiler output goes to stderr (stdout is the program's). */
function build(root) {
  const started = new Date();
  const tools = [
    [require.resolve('typescript/bin/tsc', { paths: [root] }), ['-p', 'tsconfig.build.json']],
    [require.resolve('tsc-alias/dist/bin/index.js', { paths: [root] }), ['-p', 'tsconfig.build.json']],
  ];
  for (const [bin, args] of tools) {
    const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, stdio: ['ignore', 2, 2] });
    if (r.status !== 0) return r.status ?? 1;
  }
  const stamp = path.join(root, STAMP);
  fs.mkdirSync(path.dirname(stamp), { recursive: true });
  fs.writeFileSync(stamp, `${started.toISOString()}\n`);
  fs.utimesSync(stamp, started, started);
  return 0;
}

const LOCK = path.join('dist', '.build-lock');

/**
 * One build at a time per tree: `npm start` and `npm run worker` started together after an edit
 * would otherwise run two compilers over the same dist/. The lock is a directory (mkdir is atomic)
 * holding its owner's pid; a lock whose owner is gone is taken over.
 */
function withLock(root, fn) {
  const lock = path.join(root, LOCK);
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      fs.mkdirSync(lock);
      fs.writeFileSync(path.join(lock, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      if (!ownerAlive(lock)) fs.rmSync(lock, { recursive: true, force: true });
      else Atomics.wait(pause, 0, 0, 100);
    }
  }
  try {
    return fn();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

function ownerAlive(lock) {
  let pid;
  try {
    pid = Number(fs.readFileSync(path.join(lock, 'pid'), 'utf8'));
  } catch {
    // Just created, pid not written yet: alive, unless the lock is old (its owner died in between).
    try {
      return Date.now() - fs.statSync(lock).mtimeMs < 10_000;
    } catch {
      return false;
    }
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

function main(argv) {
  const root = process.cwd();
  if (argv.includes('--check')) {
    const reason = staleReason(root);
    process.stdout.write(`${reason ?? 'fresh'}\n`);
    return reason === undefined ? 0 : 1;
  }
  if (!argv.includes('--if-stale')) return withLock(root, () => build(root));
  if (staleReason(root) === undefined) return 0;
  return withLock(root, () => {
    // Another entry point may have built while this one waited for the lock.
    const reason = staleReason(root);
    if (reason === undefined) return 0;
    process.stderr.write(`build: ${reason}; compiling...\n`);
    return build(root);
  });
}

module.exports = { staleReason, build, STAMP };

if (require.main === module) process.exitCode = main(process.argv.slice(2));
