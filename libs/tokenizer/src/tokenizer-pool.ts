import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ChatMessage, ChatTemplateOptions, Tokenizer, TokenizerFiles } from './tokenizer';

/** What a Tokenizer hands to its pool: the work of one long input, done on another thread. */
export interface TokenizerOffload {
  /** Inputs at least this long (characters of message content, or of text) leave the event loop. */
  readonly thresholdChars: number;
  /**
   * False while no thread can take this tokenizer's work yet (threads start, and build their own
   * copy of a tokenizer, on first need: seconds on a busy machine): the input is then encoded
   * inline, so no request waits for a thread to get ready. Absent: always true.
   */
  accepts?(tokenizer: Tokenizer): boolean;
  encodeChat(tokenizer: Tokenizer, messages: ChatMessage[], opts: ChatTemplateOptions): Promise<{ text: string; ids: number[] }>;
  encode(tokenizer: Tokenizer, text: string, addSpecialTokens: boolean): Promise<number[]>;
}

export interface TokenizerPoolOptions {
  /** Threads (default: the machine's cores). Started on first use, not at construction. */
  size?: number;
  /** See TokenizerOffload.thresholdChars (default DEFAULT_OFFLOAD_CHARS). */
  thresholdChars?: number;
}

/**
 * Where a thread hop starts to pay: below this many characters the inline encode (≈1 µs per
 * character here) costs less than posting the job and waking a thread; above it, the loop would
 * stall for milliseconds. Measured with `npm run bench -- gateway --long` (see BENCHMARKS.md).
 */
export const DEFAULT_OFFLOAD_CHARS = 4096;

type Reply = { type?: undefined; id: number; ok: true; text?: string; ids: Uint32Array } | { type?: undefined; id: number; ok: false; message: string } | { type: 'loaded'; key: number };
interface Job {
  resolve: (r: { text?: string; ids: number[] }) => void;
  reject: (e: Error) => void;
}
interface Thread {
  worker: Worker;
  /** Tokenizers this thread was asked to build (by pool key). */
  loaded: Set<number>;
  /** Tokenizers this thread has built and can use now. */
  ready: Set<number>;
  pending: number;
}

/**
 * Worker threads that render chat templates and tokenize long inputs, so that one client's 20k-
 * character prompt never stalls the streams of everyone else on this node. Each thread builds its
 * own copy of a tokenizer from the same files the first time it is asked to use it (so the result
 * equals the inline path's, tested), keeps its own prefix caches, and returns token ids by
 * transfer. A conversation goes back to the same thread when that thread is not behind the others,
 * so its prefix cache serves the next turn.
 */
export class TokenizerPool implements TokenizerOffload {
  readonly thresholdChars: number;
  private readonly size: number;
  private readonly threads: Thread[] = [];
  private readonly jobs = new Map<number, Job>();
  private readonly keys = new WeakMap<Tokenizer, number>();
  private nextKey = 1;
  private nextJob = 1;
  private closed = false;

  constructor(opts: TokenizerPoolOptions = {}) {
    this.size = Math.max(1, opts.size ?? availableParallelism());
    this.thresholdChars = opts.thresholdChars ?? DEFAULT_OFFLOAD_CHARS;
  }

  /** True when the compiled tokenizer module the threads load exists (it does after `npm run build`). */
  static available(): boolean {
    return threadModule() !== undefined;
  }

  encodeChat(tokenizer: Tokenizer, messages: ChatMessage[], opts: ChatTemplateOptions): Promise<{ text: string; ids: number[] }> {
    const affinity = affinityOf(messages);
    return this.run(tokenizer, affinity, { type: 'chat', messages, opts }) as Promise<{ text: string; ids: number[] }>;
  }

  async encode(tokenizer: Tokenizer, text: string, addSpecialTokens: boolean): Promise<number[]> {
    return (await this.run(tokenizer, text.length, { type: 'encode', text, addSpecialTokens })).ids;
  }

  /**
   * True once a thread has this tokenizer built. Until then false, and the pool gets ready: every
   * thread is started and builds it (the caller encodes inline meanwhile).
   */
  accepts(tokenizer: Tokenizer): boolean {
    if (this.closed) return true; // run() refuses, as it always has
    const key = this.keyOf(tokenizer);
    if (this.threads.some((t) => t.ready.has(key))) return true;
    this.warm(tokenizer, key);
    return false;
  }

  /** Resolves when every thread has this tokenizer built (tests, benchmarks, warming before traffic). */
  async warmUp(tokenizer: Tokenizer): Promise<void> {
    const key = this.keyOf(tokenizer);
    this.warm(tokenizer, key);
    while (!(this.threads.length >= this.size && this.threads.every((t) => t.ready.has(key)))) {
      if (this.closed) throw new Error('tokenizer pool closed');
      await new Promise<void>((resolve) => this.readyWaiters.push(resolve));
      this.warm(tokenizer, key); // a thread that died meanwhile is replaced
    }
  }

  private readonly readyWaiters: (() => void)[] = [];

  private warm(tokenizer: Tokenizer, key: number): void {
    while (this.threads.length < this.size) this.spawn();
    for (const t of this.threads) this.load(t, tokenizer, key);
  }

  private keyOf(tokenizer: Tokenizer): number {
    let key = this.keys.get(tokenizer);
    if (key === undefined) this.keys.set(tokenizer, (key = this.nextKey++));
    return key;
  }

  private load(thread: Thread, tokenizer: Tokenizer, key: number): void {
    if (thread.loaded.has(key)) return;
    thread.loaded.add(key);
    const files: TokenizerFiles = tokenizer.files;
    thread.worker.postMessage({ type: 'load', key, name: tokenizer.name, files });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.jobs.values()) job.reject(new Error('tokenizer pool closed'));
    this.jobs.clear();
    await Promise.all(this.threads.splice(0).map((t) => t.worker.terminate()));
  }

  /** Jobs the threads have finished (tests and metrics: proof that work left the event loop). */
  get completed(): number {
    return this.completedJobs;
  }

  private completedJobs = 0;

  private run(tokenizer: Tokenizer, affinity: number, work: Record<string, unknown>): Promise<{ text?: string; ids: number[] }> {
    if (this.closed) return Promise.reject(new Error('tokenizer pool is closed'));
    const key = this.keyOf(tokenizer);
    const thread = this.pick(affinity, key);
    this.load(thread, tokenizer, key);
    const id = this.nextJob++;
    thread.pending++;
    return new Promise((resolve, reject) => {
      this.jobs.set(id, {
        resolve: (r) => {
          thread.pending--;
          this.completedJobs++;
          resolve(r);
        },
        reject: (e) => {
          thread.pending--;
          reject(e);
        },
      });
      thread.worker.postMessage({ ...work, id, key });
    });
  }

  /**
   * The affinity thread unless it is behind the least busy one, among the threads that have the
   * tokenizer built when any has; threads start on first need.
   */
  private pick(affinity: number, key: number): Thread {
    if (this.threads.length < this.size) {
      const idle = this.threads.find((t) => t.pending === 0 && t.ready.has(key));
      if (idle) return idle;
      if (!this.threads.some((t) => t.ready.has(key))) return this.spawn();
    }
    const ready = this.threads.filter((t) => t.ready.has(key));
    const candidates = ready.length > 0 ? ready : this.threads;
    const preferred = candidates[affinity % candidates.length];
    let least = preferred;
    for (const t of candidates) if (t.pending < least.pending) least = t;
    return preferred.pending <= least.pending ? preferred : least;
  }

  private spawn(): Thread {
    const module = threadModule();
    if (!module) throw new Error('tokenizer pool: the compiled tokenizer module was not found (run `npm run build`)');
    const worker = new Worker(threadSource(module), { eval: true });
    worker.unref();
    const thread: Thread = { worker, loaded: new Set(), ready: new Set(), pending: 0 };
    worker.on('message', (m: Reply) => {
      if (m.type === 'loaded') {
        thread.ready.add(m.key);
        for (const wake of this.readyWaiters.splice(0)) wake();
        return;
      }
      const job = this.jobs.get(m.id);
      if (!job) return;
      this.jobs.delete(m.id);
      if (m.ok) job.resolve({ text: m.text, ids: Array.from(m.ids) });
      else job.reject(new Error(m.message));
    });
    worker.on('error', (err) => {
      // A thread that died takes its jobs with it; the next request starts a fresh one.
      this.threads.splice(this.threads.indexOf(thread), 1);
      for (const [id, job] of this.jobs) {
        this.jobs.delete(id);
        job.reject(err);
      }
      for (const wake of this.readyWaiters.splice(0)) wake();
    });
    this.threads.push(thread);
    return thread;
  }
}

/** Same first message and length class → same number: consecutive turns of one conversation. */
function affinityOf(messages: ChatMessage[]): number {
  const first = messages[0]?.content ?? '';
  let h = 2166136261;
  for (let i = 0; i < Math.min(first.length, 256); i++) h = Math.imul(h ^ first.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** The compiled tokenizer module (dist/.../index.js), next to this file or, under the test runner, in dist/. */
function threadModule(): string | undefined {
  const here = join(__dirname, 'index.js');
  if (existsSync(here)) return here;
  for (let dir = __dirname; dirname(dir) !== dir; dir = dirname(dir)) {
    const built = join(dir, 'dist', 'libs', 'tokenizer', 'src', 'index.js');
    if (existsSync(built)) return built;
  }
  return undefined;
}

function threadSource(module: string): string {
  return `
    const { parentPort } = require('node:worker_threads');
    const { Tokenizer } = require(${JSON.stringify(module)});
    const tokenizers = new Map();
    parentPort.on('message', async (m) => {
      if (m.type === 'load') {
        tokenizers.set(m.key, Tokenizer.fromFiles(m.name, m.files));
        return void parentPort.postMessage({ type: 'loaded', key: m.key });
      }
      try {
        const tok = tokenizers.get(m.key);
        if (m.type === 'chat') {
          const out = await tok.encodeChat(m.messages, m.opts);
          const ids = Uint32Array.from(out.ids);
          parentPort.postMessage({ id: m.id, ok: true, text: out.text, ids }, [ids.buffer]);
        } else {
          const ids = Uint32Array.from(await tok.encode(m.text, { addSpecialTokens: m.addSpecialTokens }));
          parentPort.postMessage({ id: m.id, ok: true, ids }, [ids.buffer]);
        }
      } catch (err) {
        parentPort.postMessage({ id: m.id, ok: false, message: String((err && err.message) || err) });
      }
    });`;
}
