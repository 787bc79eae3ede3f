import { OpLog } from './op-log';
import type { ShardVersion } from './shard-codec';

/**
 * This node's shard of routing observations: a random epoch fixed at process start and a bounded
 * log of sequenced ops. `append` is the only thing the request path calls.
 */
export class LocalShard<Op> {
  private readonly log: OpLog<Op>;
  private unflushed = 0;

  /**
   * @param epoch nonzero; 0 means "nothing known" on the wire.
   * @param onBacklog called once when `flushAtOps` ops wait, so the owner can flush early.
   */
  constructor(
    readonly epoch: number,
    capacity: number,
    private readonly flushAtOps: number,
    private readonly onBacklog: () => void,
  ) {
    if (epoch === 0) throw new RangeError('shard epoch 0 is reserved');
    this.log = new OpLog(capacity);
  }

  append(op: Op): void {
    this.log.append(op);
    if (++this.unflushed === this.flushAtOps) this.onBacklog();
  }

  /** The owner flushed: everything appended so far is on its way. */
  markFlushed(): void {
    this.unflushed = 0;
  }

  get seq(): number {
    return this.log.lastSeq;
  }

  get oldestSeq(): number {
    return this.log.oldestSeq;
  }

  get logLength(): number {
    return this.log.length;
  }

  get capacity(): number {
    return this.log.capacity;
  }

  get version(): ShardVersion {
    return { epoch: this.epoch, seq: this.log.lastSeq };
  }

  canResumeAfter(seq: number): boolean {
    return this.log.canResumeAfter(seq);
  }

  ops(from: number, to: number): Op[] {
    return this.log.slice(from, to);
  }
}
