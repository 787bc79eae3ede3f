import { request } from 'node:http';

export type KvFetchResult = { ok: true; tokens: number; bytes: number; ms: number } | { ok: false; message: string };

/**
 * The decode engine's side of a transfer: asks the prefill's bootstrap server for the room's KV
 * and waits (as long as it takes: the gateway bounds it) until it arrived or failed.
 */
export function fetchKv(host: string, port: number, room: string, signal: AbortSignal): Promise<KvFetchResult> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve({ ok: false, message: 'aborted' });
    const req = request({ host, port, path: `/kv/${encodeURIComponent(room)}`, method: 'GET', signal }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        try {
          const parsed = JSON.parse(body) as Record<string, unknown>;
          if (res.statusCode === 200) resolve({ ok: true, tokens: Number(parsed.tokens), bytes: Number(parsed.bytes), ms: Number(parsed.ms) });
          else resolve({ ok: false, message: String(parsed.error ?? `bootstrap server answered ${res.statusCode}`) });
        } catch {
          resolve({ ok: false, message: `bootstrap server answered ${res.statusCode} without JSON` });
        }
      });
      res.on('error', (err) => resolve({ ok: false, message: err.message }));
    });
    req.on('error', (err) => resolve({ ok: false, message: signal.aborted ? 'aborted' : `cannot reach the prefill's bootstrap server ${host}:${port}: ${err.message}` }));
    req.end();
  });
}
