#!/usr/bin/env node
/**
 * `npm run loadgen -- --url http://127.0.0.1:8080 --model M [options]`: drives any
 * OpenAI-compatible endpoint with LLM traffic and reports TTFT, ITL, end-to-end latency,
 * throughput, errors and cached-token ratio. See loadgen/README.md.
 */
import { writeFileSync } from 'node:fs';
import { HELP, parseCli, UsageError } from './args';
import { renderHtml } from './html-report';
import { progressPrinter } from './progress';
import { buildReport } from './report';
import { runLoad } from './runner';
import { renderText } from './text-report';

export { parseCli, UsageError } from './args';

export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  stderrIsTTY: boolean;
}

/** Exit codes: 0 done (some requests succeeded), 1 nothing succeeded or the run failed, 2 bad usage. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let parsed: ReturnType<typeof parseCli>;
  try {
    parsed = parseCli(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr(`loadgen: ${err.message}\nRun with --help for the options.\n`);
    return 2;
  }
  if (parsed === 'help') {
    io.stdout(`${HELP}\n`);
    return 0;
  }
  const { config, json, html, quiet, progressEveryMs } = parsed;
  if (!quiet) {
    config.onProgress = progressPrinter(io.stderr, io.stderrIsTTY, config);
    config.progressIntervalMs = progressEveryMs ?? (io.stderrIsTTY ? 1000 : 5000);
  }
  const run = await runLoad(config);
  if (!quiet && io.stderrIsTTY) io.stderr('\n');
  if (run.deadlineHit) io.stderr(`loadgen: the hard deadline ended the run; requests still in flight count as 'aborted'\n`);
  const { onProgress: _progress, apiKey, ...shown } = config;
  const report = buildReport(run.samples, run.elapsedMs, run.offeredRps, { ...shown, apiKey: apiKey ? '(set)' : undefined, deadlineHit: run.deadlineHit });
  io.stdout(`${renderText(report)}\n`);
  if (json) writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
  if (html) writeFileSync(html, renderHtml(report, run.samples.filter((s) => s.ok && s.ttftMs !== undefined).map((s) => s.ttftMs!)));
  return report.requests.ok === 0 ? 1 : 0;
}

if (require.main === module) {
  runCli(process.argv.slice(2), { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s), stderrIsTTY: Boolean(process.stderr.isTTY) })
    .then((code) => {
      process.exitCode = code;
    })
    .catch((err) => {
      process.stderr.write(`loadgen failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    });
}
