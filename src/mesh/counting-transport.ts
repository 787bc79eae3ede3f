import type { Metrics, PacketHandler, PacketTransport, ReplyCallback, RequestHandler } from '@drover/runtime';

/** Counts membership (SWIM) bytes in and out around any packet transport. */
export class CountingTransport implements PacketTransport {
  constructor(private readonly inner: PacketTransport, private readonly metrics: Metrics) {}

  get localAddress(): string {
    return this.inner.localAddress;
  }

  send(toAddress: string, bytes: Uint8Array): void {
    this.metrics.inc('drover_mesh_gossip_bytes_total', { direction: 'out' }, bytes.length);
    this.inner.send(toAddress, bytes);
  }

  onPacket(handler: PacketHandler): void {
    this.inner.onPacket((from, bytes) => {
      this.metrics.inc('drover_mesh_gossip_bytes_total', { direction: 'in' }, bytes.length);
      handler(from, bytes);
    });
  }

  request(toAddress: string, bytes: Uint8Array, timeoutMs: number, callback: ReplyCallback): void {
    this.metrics.inc('drover_mesh_gossip_bytes_total', { direction: 'out' }, bytes.length);
    this.inner.request(toAddress, bytes, timeoutMs, (err, reply) => {
      if (reply) this.metrics.inc('drover_mesh_gossip_bytes_total', { direction: 'in' }, reply.length);
      callback(err, reply);
    });
  }

  onRequest(handler: RequestHandler): void {
    this.inner.onRequest((from, bytes) => {
      this.metrics.inc('drover_mesh_gossip_bytes_total', { direction: 'in' }, bytes.length);
      const reply = handler(from, bytes);
      if (reply) this.metrics.inc('drover_mesh_gossip_bytes_total', { direction: 'out' }, reply.length);
      return reply;
    });
  }

  close(): void {
    this.inner.close();
  }
}
