/**
 * `npm run bench -- NAME [--json] [options]`: runs bench/NAME.ts and prints its result. With
 * --json, stdout carries exactly one JSON object (progress goes to stderr).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface BenchModule {
  description: string;
  run(args: string[]): Promise<Record<string, unknown>>;
}

async function main(): Promise<void> {
  const [name, ...rest] = process.argv.slice(2);
  const json = rest.includes('--json');
  const args = rest.filter((a) => a !== '--json');
  if (!name || name === '--help' || name === '-h') {
    process.stderr.write('usage: npm run bench -- NAME [--json] [bench options]\n\nbenches (figures in BENCHMARKS.md):\n');
    // Listed from the compiled files, so a new bench cannot be missing from the help.
    const names = readdirSync(__dirname).filter((f) => f.endsWith('.js') && f !== 'index.js').map((f) => f.slice(0, -3));
    for (const n of names.sort()) {
      const mod = (await import(join(__dirname, `${n}.js`))) as Partial<BenchModule>;
      if (typeof mod.run === 'function') process.stderr.write(`  ${n.padEnd(10)} ${mod.description ?? ''}\n`);
    }
    process.exit(name ? 0 : 2);
  }
  if (!/^[a-z0-9-]+$/.test(name) || !existsSync(join(__dirname, `${name}.js`))) {
    process.stderr.write(`unknown bench '${name}'\n`);
    process.exit(2);
  }
  const mod = (await import(join(__dirname, `${name}.js`))) as BenchModule;
  const result = await mod.run(args);
  process.stdout.write(json ? `${JSON.stringify(result)}\n` : `${JSON.stringify(result, null, 2)}\n`);
  process.exit(0);
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
