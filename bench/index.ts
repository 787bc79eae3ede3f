/**
 * `npm run bench -- NAME [--json] [options]`: runs bench/NAME.ts and prints its result. With
 * --json, stdout carries exactly one JSON object (progress goes to stderr).
 */
import { existsSync } from 'node:fs';
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
    process.stderr.write('usage: npm run bench -- NAME [--json] [bench options]\n');
    process.stderr.write('benches: gateway, radix, routing, swim, mesh (see BENCHMARKS.md)\n');
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
