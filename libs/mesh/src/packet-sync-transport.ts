import type { PacketTransport } from '@drover/runtime';
import type { SyncTransport } from './sync-transport';

/**
 * State sync over a packet transport: `[u8 nameLen][sender name][frame]`. Used in virtual time
 * (the in-memory network, with its delays, losses and partitions) by tests and mesh-sim; frames
 * lost on the way are retransmitted by the sync protocol.
 */
export class PacketSyncTransport implements SyncTransport {
  private handler: ((peer: string, frame: Uint8Array) => void) | undefined;
  private readonly header: Uint8Array;

  constructor(private readonly transport: PacketTransport, nodeName: string) {
    const name = new TextEncoder().encode(nodeName);
    if (name.length > 255) throw new RangeError('node name too long');
    this.header = Uint8Array.of(name.length, ...name);
    transport.onPacket((_from, bytes) => {
      if (bytes.length < 1 || bytes.length < 1 + bytes[0]) return;
      const peer = new TextDecoder().decode(bytes.subarray(1, 1 + bytes[0]));
      this.handler?.(peer, bytes.subarray(1 + bytes[0]));
    });
  }

  get localAddress(): string {
    return this.transport.localAddress;
  }

  send(_peerName: string, peerAddress: string, frame: Uint8Array): void {
    const out = new Uint8Array(this.header.length + frame.length);
    out.set(this.header);
    out.set(frame, this.header.length);
    this.transport.send(peerAddress, out);
  }

  onFrame(handler: (peer: string, frame: Uint8Array) => void): void {
    this.handler = handler;
  }

  disconnect(): void {}

  close(): void {
    this.transport.close();
  }
}
