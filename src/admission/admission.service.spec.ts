import { describe, expect, it } from 'vitest';
import { SystemTimers } from '@drover/runtime';
import type { GatewayConfig } from '../config/options';
import type { KeyStoreService } from '../auth/key-store.service';
import { attachPrincipal } from '../auth/principal';
import { AdmissionService } from './admission.service';

/** Rate-limit state is bounded and expires: buckets of keys idle long enough to refill are dropped. */
describe('AdmissionService rate-limit state', () => {
  const config = { maxConcurrentRequests: 0, maxQueuedRequests: 0, queueTimeoutMs: 1000, rateLimitRpm: 60, rateLimitTpm: 600 } as GatewayConfig;
  const keys = { principalById: () => undefined } as unknown as KeyStoreService;

  it('keeps a bucket while it is drawn down and drops it once refilled (swept at most once a minute)', async () => {
    let now = 1_000_000;
    const admission = new AdmissionService(config, { now: () => now }, new SystemTimers(), keys);
    const headersOf = (id: string) => {
      const h = {};
      attachPrincipal(h, { id, admin: false });
      return h;
    };
    for (let i = 0; i < 50; i++) {
      const t = await admission.admit(headersOf(`key-${i}`), new AbortController().signal);
      t.settle(10);
      t.done();
    }
    expect(admission.trackedBuckets).toBe(100); // requests and tokens, per key
    // 30 s later: not swept yet, and the buckets are not full again anyway.
    now += 30_000;
    const t = await admission.admit(headersOf('key-0'), new AbortController().signal);
    t.settle(10);
    t.done();
    expect(admission.trackedBuckets).toBe(100);
    // Two minutes on every bucket has refilled: the next admission sweeps them (its own is recreated).
    now += 120_000;
    await admission.admit(headersOf('key-new'), new AbortController().signal);
    expect(admission.trackedBuckets).toBe(2);
  });
});
