import { MIN_FRAME_BYTES, type SyncLimits } from './limits';
import { Reassembler } from './wire/chunking';

/** Per-peer transport bookkeeping: the agreed frame cap, chunk reassembly and traffic counters. */
export class PeerLink {
  frameCap: number;
  readonly reassembler: Reassembler;
  helloReceived = false;
  bytesIn = 0;
  bytesOut = 0;
  messagesIn = 0;
  messagesOut = 0;
  lastContactMs: number | undefined;

  constructor(
    readonly peerId: string,
    private readonly limits: SyncLimits,
  ) {
    this.frameCap = limits.maxFrameBytes;
    this.reassembler = new Reassembler(limits);
  }

  /** Both sides send with the smaller of the two announced caps. */
  agreeFrameCap(peerMaxFrameBytes: number): void {
    this.helloReceived = true;
    this.frameCap = Math.max(MIN_FRAME_BYTES, Math.min(this.limits.maxFrameBytes, peerMaxFrameBytes));
  }
}
