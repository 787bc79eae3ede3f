import Redis from 'ioredis';
import type { ResponseStore, StoredResponse } from './response-store';

const PREFIX = 'drover:response:';

/** Stored responses in Redis with a TTL, shared by every gateway node that points at it. */
export class RedisResponseStore implements ResponseStore {
  private readonly redis: Redis;

  constructor(url: string, private readonly ttlSeconds: number) {
    this.redis = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 2, enableOfflineQueue: true });
    // Connection errors surface on the calls that need Redis; ioredis reconnects on its own.
    this.redis.on('error', () => undefined);
  }

  async put(response: StoredResponse): Promise<void> {
    await this.redis.set(PREFIX + response.id, JSON.stringify(response), 'EX', this.ttlSeconds);
  }

  async get(id: string): Promise<StoredResponse | undefined> {
    const raw = await this.redis.get(PREFIX + id);
    return raw ? (JSON.parse(raw) as StoredResponse) : undefined;
  }

  async delete(id: string): Promise<boolean> {
    return (await this.redis.del(PREFIX + id)) > 0;
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
