import type { Progress, RunConfig } from './runner';

/** Renders progress on stderr: a redrawn bar on a terminal, one plain line per tick otherwise. */
export function progressPrinter(write: (s: string) => void, isTTY: boolean, cfg: Pick<RunConfig, 'durationMs' | 'requests'>): (p: Progress) => void {
  return (p) => {
    const byTime = cfg.durationMs ? p.elapsedMs / cfg.durationMs : 0;
    const byCount = cfg.requests ? (p.ok + p.failed) / cfg.requests : 0;
    const done = Math.min(1, Math.max(byTime, byCount));
    const stats = `${(p.elapsedMs / 1000).toFixed(1)}s sent ${p.sent} ok ${p.ok} err ${p.failed} in-flight ${p.inFlight} ${p.rate} req/s ttft p50 ${p.ttftP50 ?? '—'} ms`;
    if (isTTY) {
      const width = 24;
      const filled = Math.round(done * width);
      write(`\r\x1b[2K[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(done * 100).toFixed(0).padStart(3)}% ${stats}`);
    } else write(`loadgen: ${stats}\n`);
  };
}
