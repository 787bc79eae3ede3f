import { request } from 'node:http';

/**
 * The gateway's event-loop delay p99 in ms since the previous call: read from its /metrics
 * (`drover_event_loop_delay_p99_seconds`, a monitorEventLoopDelay histogram sampled every 1 ms with
 * that period subtracted, reset at every scrape). prom-client's own eventloop_lag_p99 is not
 * used: it samples with a 10 ms timer and includes the period, so an idle loop reads 10 ms.
 */
export function eventLoopP99Ms(gatewayUrl: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${gatewayUrl}/metrics`, { headers }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => {
        const m = text.match(/^drover_event_loop_delay_p99_seconds (\S+)$/m);
        if (!m) return reject(new Error(`no event-loop p99 in /metrics (status ${res.statusCode})`));
        resolve(Number(m[1]) * 1000);
      });
    });
    req.on('error', reject);
    req.end();
  });
}
