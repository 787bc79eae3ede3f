/**
 * How state-sync frames travel between mesh nodes. Frames are opaque (crdt-sync produces them);
 * the transport authenticates them and tells the receiver which peer sent them. Lossy is fine:
 * the sync protocol acknowledges and retransmits.
 */
export interface SyncTransport {
  /** Address peers dial to reach this node's sync endpoint (advertised in SWIM metadata). */
  readonly localAddress: string;
  send(peerName: string, peerAddress: string, frame: Uint8Array): void;
  onFrame(handler: (peerName: string, frame: Uint8Array) => void): void;
  /** Forget a peer's connection (it left or died). */
  disconnect(peerName: string): void;
  close(): Promise<void> | void;
}
