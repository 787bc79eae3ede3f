import * as Y from 'yjs';
import type { SyncMessage } from '../wire/messages';
import { type DocSyncMessage, fullStateMessage, handleDocSync, syncStep1 } from './doc-sync';
import type { DocSize, RegistryDoc } from './registry-doc';

export interface DocChannelConfig {
  /** Anti-entropy: every peer gets our state vector this often (catches anything lost). */
  docSyncIntervalMs: number;
  /** How often the document's encoded size is measured against the compaction bound. */
  compactionCheckIntervalMs: number;
}

/**
 * Carries the registry document between this node and its peers: local updates are merged and
 * pushed on flush, state vectors are exchanged on link open and periodically, and compaction is
 * left to one node (the smallest id among the live ones) unless the document is far past its
 * bound, so a partitioned leader cannot let it grow forever.
 */
export class DocChannel {
  private pending: Uint8Array[] = [];
  private lastAntiEntropyMs = 0;
  private lastCompactionCheckMs = 0;
  private lastMeasured: DocSize = { bytes: 0, structs: 0 };

  constructor(
    readonly doc: RegistryDoc,
    private readonly send: (peer: string, msg: SyncMessage) => void,
    private readonly peers: () => Iterable<string>,
    private readonly config: DocChannelConfig,
  ) {
    doc.onLocalUpdate((update) => this.pending.push(update));
    doc.onEpochChange(() => {
      // Updates queued in the old epoch mean nothing in the new one; the full state covers them.
      this.pending = [];
      const full = fullStateMessage(doc);
      for (const peer of this.peers()) this.send(peer, full);
    });
  }

  linkOpened(peer: string): void {
    this.send(peer, syncStep1(this.doc));
  }

  /** Returns whether the message was malformed. */
  onMessage(peer: string, msg: DocSyncMessage): boolean {
    const outcome = handleDocSync(this.doc, msg);
    if (outcome.reply) this.send(peer, outcome.reply);
    return outcome.malformed;
  }

  flush(): void {
    if (this.pending.length === 0) return;
    const update = this.pending.length === 1 ? this.pending[0] : Y.mergeUpdatesV2(this.pending);
    this.pending = [];
    const msg: SyncMessage = { type: 'doc-update', epoch: this.doc.epoch, update };
    for (const peer of this.peers()) this.send(peer, msg);
  }

  tick(nowMs: number, isCompactionLeader: boolean): void {
    if (nowMs - this.lastAntiEntropyMs >= this.config.docSyncIntervalMs) {
      this.lastAntiEntropyMs = nowMs;
      const step1 = syncStep1(this.doc);
      for (const peer of this.peers()) this.send(peer, step1);
    }
    if (nowMs - this.lastCompactionCheckMs >= this.config.compactionCheckIntervalMs) {
      this.lastCompactionCheckMs = nowMs;
      this.maybeCompact(isCompactionLeader);
    }
  }

  /** Compacts when past the bound and this node is the leader, or when far past it regardless. */
  maybeCompact(isCompactionLeader: boolean): boolean {
    const size = this.doc.measure();
    this.lastMeasured = size;
    if (!this.doc.needsCompaction(size, isCompactionLeader ? 1 : 2)) return false;
    this.doc.compact();
    this.lastMeasured = this.doc.measure();
    return true;
  }

  /** Size at the last measurement (measuring costs a full encode). */
  get measured(): DocSize {
    return this.lastMeasured;
  }
}
