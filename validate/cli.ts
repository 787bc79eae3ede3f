#!/usr/bin/env node
/**
 * `npm run validate -- --url URL --model NAME [--api-key K] [--timeout-ms N]`: the model
 * onboarding check an operator runs against a deployment (this gateway or any OpenAI-compatible
 * endpoint). Prints a pass/fail table; exits 0 when nothing failed, 1 when a check failed, 2 on
 * bad usage.
 */
import { runChecks, renderTable } from './checks';

const HELP = `Usage: npm run validate -- --url URL --model NAME [--api-key KEY] [--timeout-ms 60000]

Checks: model listed, chat, usage, streaming, stop strings, tool-call round trip, reasoning split,
structured output, logprobs. The API key may also come from DROVER_API_KEY.`;

export async function main(argv: string[], out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const opts: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') {
      out(`${HELP}\n`);
      return 0;
    }
    const [key, inline] = a.startsWith('--') ? a.slice(2).split(/=(.*)/s, 2) : [undefined, undefined];
    if (!key || !['url', 'model', 'api-key', 'timeout-ms'].includes(key)) {
      err(`validate: unknown argument ${a}\n${HELP}\n`);
      return 2;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) {
      err(`validate: --${key} needs a value\n`);
      return 2;
    }
    opts[key] = value;
  }
  if (!opts.url || !opts.model) {
    err(`validate: --url and --model are required\n${HELP}\n`);
    return 2;
  }
  const timeoutMs = Number(opts['timeout-ms'] ?? 60_000);
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    err('validate: --timeout-ms must be a positive number\n');
    return 2;
  }
  const results = await runChecks({ url: opts.url.replace(/\/+$/, ''), model: opts.model, apiKey: opts['api-key'] ?? process.env.DROVER_API_KEY, timeoutMs });
  out(`${renderTable(results)}\n`);
  return results.some((r) => r.status === 'fail') ? 1 : 0;
}

if (require.main === module) {
  main(process.argv.slice(2), (s) => process.stdout.write(s), (s) => process.stderr.write(s)).then(
    (code) => (process.exitCode = code),
    (e: Error) => {
      process.stderr.write(`validate: ${e.message}\n`);
      process.exitCode = 1;
    },
  );
}
