import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// docs/ARCHITECTURE.md names files, directories and dependency edges: these checks fail when the
// code moves and the document does not.
const ROOT = join(__dirname, '../..');
const doc = readFileSync(join(ROOT, 'docs/ARCHITECTURE.md'), 'utf8');
const TOP = ['src', 'libs', 'proto', 'test', 'scripts', 'deploy', 'docs', 'loadgen', 'bench', 'mesh-sim', 'validate'];

/** The lint rule's table of allowed edges between libraries (eslint.config.mjs, ALLOWED). */
function lintEdges(): Map<string, string[]> {
  const text = readFileSync(join(ROOT, 'eslint.config.mjs'), 'utf8');
  const block = /const ALLOWED = \{([\s\S]*?)\n\};/.exec(text)![1];
  return new Map([...block.matchAll(/'?([a-z-]+)'?: \[([^\]]*)\]/g)].map((m) => [m[1], [...m[2].matchAll(/'([a-z-]+)'/g)].map((x) => x[1]).sort()]));
}

/** The document's table: library → the libraries it may import. */
function docEdges(): Map<string, string[]> {
  const rows = [...doc.matchAll(/^\| `([a-z-]+)` \| [^|]+ \| ([^|]+) \|$/gm)];
  return new Map(rows.map((r) => [r[1], r[2].trim() === '—' ? [] : r[2].split(',').map((s) => s.trim()).sort()]));
}

describe('docs/ARCHITECTURE.md', () => {
  it('lists every library with exactly the dependencies lint allows it', () => {
    const libs = readdirSync(join(ROOT, 'libs')).sort();
    const edges = docEdges();
    expect([...edges.keys()].sort()).toEqual(libs);
    expect(Object.fromEntries(edges)).toEqual(Object.fromEntries(lintEdges()));
  });

  it('names only paths that exist in the repository', () => {
    const named = [...doc.matchAll(/`([^`\s]+)`/g)].map((m) => m[1]).filter((p) => TOP.some((t) => p === t || p.startsWith(`${t}/`)));
    expect(named.length).toBeGreaterThan(40);
    for (const p of named) {
      const path = p.replace(/\/$/, '');
      if (path.endsWith('*')) {
        const dir = path.slice(0, path.lastIndexOf('/'));
        const prefix = path.slice(path.lastIndexOf('/') + 1, -1);
        expect(readdirSync(join(ROOT, dir)).some((f) => f.startsWith(prefix)), p).toBe(true);
      } else {
        expect(existsSync(join(ROOT, path)), p).toBe(true);
      }
    }
    // Files named by their bare name in the request path exist under src/.
    for (const f of ['openai-schemas.ts', 'chat-tools.ts', 'structured-output.ts', 'retry-policy.ts', 'route-access.ts', 'request-tracing.ts', 'metric-catalog.ts']) {
      expect(existsSync(join(ROOT, 'src/api', f)) || existsSync(join(ROOT, 'src/inference', f)) || existsSync(join(ROOT, 'src/auth', f)) || existsSync(join(ROOT, 'src/observability', f)), f).toBe(true);
    }
  });

  it('stands alone (no links outside the repository) and the README links it', () => {
    expect(doc).not.toMatch(/\]\((https?:|\.\.\/)/);
    expect(doc).not.toMatch(/\/work\/|shared\/design/);
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toContain('(docs/ARCHITECTURE.md)');
  });
});
