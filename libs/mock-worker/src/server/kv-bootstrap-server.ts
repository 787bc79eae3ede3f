import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { kvBytes, kvTransferMs, type KvTransferConfig } from '../pd/kv-transfer';

/** What the sender does with a transfer: send it, never finish it, or fail it. */
export type KvTransferFault = 'none' | 'hang' | 'fail';

interface Room {
  /** Prompt tokens whose KV is ready to send (undefined: prefill not done yet). */
  tokens?: number;
  failed?: string;
  /** The decode side asked for it (transfer starts when both this and `tokens` hold). */
  requested: boolean;
  started: boolean;
  /** Pending decode-side responses and prefill-side waiters, settled when the transfer ends. */
  waiters: ((outcome: { ok: true; tokens: number; bytes: number; ms: number } | { ok: false; message: string }) => void)[];
}

const MAX_ROOMS = 10_000;

/**
 * The prefill engine's KV bootstrap server (SGLang's bootstrap port; vLLM NIXL's side channel):
 * a prefill registers the room (SGLang: the bootstrap room; vLLM: the id it returns in its transfer
 * parameters), the decode engine asks for it over HTTP (`GET /kv/ROOM`), and the answer comes once
 * the prefill is done and the modelled transfer time has passed. Both sides then learn the outcome.
 */
export class KvBootstrapServer {
  private readonly rooms = new Map<string, Room>();
  private server: Server | undefined;
  private boundPort = 0;
  readonly stats = { started: 0, completed: 0, failed: 0 };

  constructor(
    private readonly transfer: KvTransferConfig,
    private readonly fault: () => KvTransferFault,
  ) {}

  async listen(host: string, port: number): Promise<number> {
    const server = createServer((req, res) => this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.boundPort = (server.address() as AddressInfo).port;
    return this.boundPort;
  }

  get port(): number {
    return this.boundPort;
  }

  /** The prefill for this room is done: its KV (of `tokens` prompt tokens) can be sent. */
  prefilled(room: string, tokens: number): void {
    const r = this.room(room);
    r.tokens = tokens;
    this.maybeStart(room, r);
  }

  /** The prefill side gave up on this room (aborted, failed): a waiting decode side hears it. */
  fail(room: string, message: string): void {
    const r = this.rooms.get(room);
    if (!r) return;
    r.failed = message;
    this.settle(room, r, { ok: false, message });
  }

  /** Resolves when the room's transfer ended (true: the decode side has the KV). */
  transferred(room: string): Promise<boolean> {
    const r = this.room(room);
    return new Promise((resolve) => r.waiters.push((o) => resolve(o.ok)));
  }

  close(): Promise<void> {
    for (const [id, r] of this.rooms) this.settle(id, r, { ok: false, message: 'prefill engine shutting down' });
    const server = this.server;
    if (!server) return Promise.resolve();
    server.closeAllConnections();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  private room(id: string): Room {
    let r = this.rooms.get(id);
    if (!r) {
      // Rooms a decode side never claims would pile up: the oldest go first.
      if (this.rooms.size >= MAX_ROOMS) {
        const [oldest, room] = this.rooms.entries().next().value as [string, Room];
        this.settle(oldest, room, { ok: false, message: 'room expired' });
      }
      r = { requested: false, started: false, waiters: [] };
      this.rooms.set(id, r);
    }
    return r;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const m = /^\/kv\/([^/?]+)$/.exec(req.url ?? '');
    if (req.method !== 'GET' || !m) {
      res.writeHead(404).end();
      return;
    }
    const id = decodeURIComponent(m[1]);
    const r = this.room(id);
    if (r.failed) {
      res.writeHead(410, { 'content-type': 'application/json' }).end(JSON.stringify({ error: r.failed }));
      return;
    }
    let answered = false;
    r.waiters.push((o) => {
      if (answered) return;
      answered = true;
      if (o.ok) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(o));
      else res.writeHead(410, { 'content-type': 'application/json' }).end(JSON.stringify({ error: o.message }));
    });
    r.requested = true;
    // The decode side went away: the room stays for the prefill side, which learns nothing yet.
    res.on('close', () => {
      answered = true;
    });
    this.maybeStart(id, r);
  }

  private maybeStart(id: string, r: Room): void {
    if (r.started || r.tokens === undefined || !r.requested || r.failed) return;
    r.started = true;
    this.stats.started++;
    const tokens = r.tokens;
    const fault = this.fault();
    if (fault === 'hang') return; // fault injection: the transfer never completes
    const ms = kvTransferMs(tokens, this.transfer);
    setTimeout(() => { // allow-wallclock: the modelled transfer time of a real link
      if (fault === 'fail') this.settle(id, r, { ok: false, message: 'KV transfer failed (fault injection)' });
      else this.settle(id, r, { ok: true, tokens, bytes: kvBytes(tokens, this.transfer), ms });
    }, ms);
  }

  private settle(id: string, r: Room, outcome: Parameters<Room['waiters'][number]>[0]): void {
    if (this.rooms.get(id) === r) this.rooms.delete(id);
    if (outcome.ok) this.stats.completed++;
    else if (r.started) this.stats.failed++;
    for (const w of r.waiters.splice(0)) w(outcome);
  }
}
