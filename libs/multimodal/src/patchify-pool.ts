import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { patchifyBytes } from './patchify';
import type { VisionConfig } from './vision-config';

type Result = ReturnType<typeof patchifyBytes>;
interface Job {
  resolve: (r: Result) => void;
  reject: (e: Error) => void;
  message: unknown;
  transfer: ArrayBuffer[];
}

/**
 * Worker threads that patchify decoded images off the event loop: a 1080p photo is ~7.6 M floats
 * (tens of ms of scalar work) that would otherwise stall every stream this node serves. The
 * worker runs patchifyBytes' own source (it only touches its arguments), so the same code path
 * works compiled and under the test runner; pixels and patches move by transfer, not copy.
 */
export class PatchifyPool {
  private readonly idle: Worker[] = [];
  private readonly all: Worker[] = [];
  private readonly queue: Job[] = [];
  private readonly busy = new Map<Worker, Job>();
  private closed = false;

  constructor(size = Math.max(1, Math.min(4, availableParallelism() - 1))) {
    const source = `
      const { parentPort } = require('node:worker_threads');
      const patchifyBytes = ${patchifyBytes.toString()};
      parentPort.on('message', (m) => {
        try {
          const r = patchifyBytes(new Uint8Array(m.data), m.channels, m.height, m.width, m.luts.map((b) => new Float32Array(b)), m.cfg);
          parentPort.postMessage({ ok: true, r }, [r.patches.buffer]);
        } catch (err) {
          parentPort.postMessage({ ok: false, message: String(err && err.message || err) });
        }
      });`;
    for (let i = 0; i < size; i++) {
      const w = new Worker(source, { eval: true });
      w.unref();
      w.on('message', (m: { ok: boolean; r?: Result; message?: string }) => this.settle(w, m));
      w.on('error', (err) => this.fail(w, err));
      this.all.push(w);
      this.idle.push(w);
    }
  }

  run(data: Uint8Array, channels: number, height: number, width: number, luts: readonly Float32Array[], cfg: VisionConfig): Promise<Result> {
    if (this.closed) return Promise.reject(new Error('patchify pool is closed'));
    // The decoder's buffer may be a view into a larger one: transfer only what is ours alone.
    const pixels = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? (data.buffer as ArrayBuffer) : data.slice().buffer;
    const tables = luts.map((l) => l.slice().buffer);
    const { imageMean, imageStd, patchSize, mergeSize, temporalPatchSize } = cfg;
    const message = { data: pixels, channels, height, width, luts: tables, cfg: { imageMean, imageStd, patchSize, mergeSize, temporalPatchSize } };
    return new Promise<Result>((resolve, reject) => {
      this.queue.push({ resolve, reject, message, transfer: [pixels, ...tables] });
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new Error('patchify pool closed'));
    await Promise.all(this.all.map((w) => w.terminate()));
  }

  private pump(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const w = this.idle.pop()!;
      const job = this.queue.shift()!;
      this.busy.set(w, job);
      w.postMessage(job.message, job.transfer);
    }
  }

  private settle(w: Worker, m: { ok: boolean; r?: Result; message?: string }): void {
    const job = this.busy.get(w);
    this.busy.delete(w);
    this.idle.push(w);
    if (job) {
      if (m.ok && m.r) job.resolve({ ...m.r, patches: new Float32Array(m.r.patches.buffer) });
      else job.reject(new Error(m.message ?? 'patchify failed'));
    }
    this.pump();
  }

  private fail(w: Worker, err: Error): void {
    const job = this.busy.get(w);
    this.busy.delete(w);
    job?.reject(err);
    // A worker that crashed is gone; the pool carries on with the others (or fails loudly if none).
    this.all.splice(this.all.indexOf(w), 1);
    if (this.all.length === 0) for (const j of this.queue.splice(0)) j.reject(new Error('no patchify workers left'));
    this.pump();
  }
}
