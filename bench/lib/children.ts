import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** A child process started from `args`, resolved with the first stdout match of `pattern`. */
export function startChild(args: string[], pattern: RegExp, what: string, log: (msg: string) => void = () => undefined): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start`)), 30_000);
    const onData = (d: Buffer): void => {
      buf += d.toString();
      const m = buf.match(pattern);
      if (m) {
        clearTimeout(timer);
        // Keep draining the child's logs without scanning them (a pipe nobody empties blocks it).
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        log(`${what} at ${m[1]}`);
        resolve({ url: m[1], child });
      }
    };
    child.stdout!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`${what} exited with ${code}`)));
  });
}

/** CPU seconds (user + system, all threads) a child process has used so far, from /proc (USER_HZ 100). */
export function cpuSecondsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
