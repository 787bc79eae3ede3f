import { Inject, Injectable } from '@nestjs/common';
import { DroverError, type Clock, type Logger } from '@drover/runtime';
import type { GatewayConfig } from '../config/options';
import { CLOCK, CONFIG, LOGGER } from '../runtime/tokens';
import { hashKey, hashKeyHex, newKeyId, newKeySecret, sameHash, virtualKeyId } from './api-key';
import { keyRecordSchema, type CreateKeyInput, type KeyRecord } from './key-record';
import type { Principal } from './principal';

interface StoredKey {
  record: KeyRecord;
  hash: Buffer;
}

/** Keys made by POST /admin/keys at most (replicated to every node, so bounded). */
const MAX_VIRTUAL_KEYS = 10_000;

/**
 * Every key this node accepts: bootstrap keys from config (--api-key, --admin-key) and virtual keys
 * created through the admin API on any node (replicated through the mesh's registry document).
 * Only hashes are held; a request's key is hashed once and compared in constant time.
 */
@Injectable()
export class KeyStoreService {
  private readonly bootstrap: { id: string; hash: Buffer }[];
  private readonly adminHash: Buffer | undefined;
  private readonly virtual = new Map<string, StoredKey>();
  private readonly listeners: ((id: string, record: KeyRecord) => void)[] = [];

  constructor(
    @Inject(CONFIG) config: GatewayConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly log: Logger,
  ) {
    this.bootstrap = config.apiKey.map((k, i) => ({ id: `bootstrap-${i}`, hash: hashKey(k) }));
    this.adminHash = config.adminKey ? hashKey(config.adminKey) : undefined;
  }

  get hasAdminKey(): boolean {
    return this.adminHash !== undefined;
  }

  /** The principal a token stands for, or undefined for an unknown or revoked key. */
  authenticate(token: string): Principal | undefined {
    const hash = hashKey(token);
    if (this.adminHash && sameHash(hash, this.adminHash)) return { id: 'admin', admin: true };
    const id = virtualKeyId(token);
    if (id !== undefined) {
      const stored = this.virtual.get(id);
      if (stored && !stored.record.revoked && sameHash(hash, stored.hash)) return principalOf(id, stored.record);
    }
    let match: string | undefined;
    for (const b of this.bootstrap) if (sameHash(hash, b.hash)) match ??= b.id;
    return match === undefined ? undefined : { id: match, admin: false };
  }

  /** Limits of a key id (for spend reported by other nodes). */
  principalById(id: string): Principal | undefined {
    const stored = this.virtual.get(id);
    return stored ? principalOf(id, stored.record) : undefined;
  }

  create(input: CreateKeyInput): { id: string; key: string; record: KeyRecord } {
    if (this.virtual.size >= MAX_VIRTUAL_KEYS) throw new DroverError('conflict', `At most ${MAX_VIRTUAL_KEYS} API keys can exist; revoke unused ones first.`);
    const id = newKeyId();
    const key = newKeySecret(id);
    const record: KeyRecord = {
      hash: hashKeyHex(key),
      name: input.name ?? '',
      models: input.models ?? null,
      rpm: input.rpm ?? null,
      tpm: input.tpm ?? null,
      budget_tokens: input.budget_tokens ?? null,
      metadata: input.metadata ?? {},
      created_at: this.clock.now(),
      revoked: false,
    };
    this.put(id, record, true);
    this.log.info({ keyId: id }, 'api key created');
    return { id, key, record };
  }

  /** A new secret for the same id (limits and spend carry over); the old secret stops working at once. */
  rotate(id: string): { key: string; record: KeyRecord } {
    const stored = this.live(id);
    const key = newKeySecret(id);
    const record = { ...stored.record, hash: hashKeyHex(key) };
    this.put(id, record, true);
    this.log.info({ keyId: id }, 'api key rotated');
    return { key, record };
  }

  revoke(id: string): KeyRecord {
    const stored = this.find(id);
    const record = { ...stored.record, revoked: true };
    this.put(id, record, true);
    this.log.info({ keyId: id }, 'api key revoked');
    return record;
  }

  get(id: string): KeyRecord {
    return this.find(id).record;
  }

  list(): [string, KeyRecord][] {
    return [...this.virtual].map(([id, s]) => [id, s.record]);
  }

  /** Called with every local create/rotate/revoke (the mesh replicates them). */
  onLocalChange(listener: (id: string, record: KeyRecord) => void): void {
    this.listeners.push(listener);
  }

  /** A key replicated from another node; malformed records are ignored (and logged). */
  applyRemote(id: string, value: unknown): void {
    const parsed = keyRecordSchema.safeParse(value);
    if (!/^[0-9a-f]{12}$/.test(id) || !parsed.success) {
      this.log.warn({ keyId: id.slice(0, 32) }, 'ignored a malformed api key record from the mesh');
      return;
    }
    this.put(id, parsed.data, false);
  }

  private put(id: string, record: KeyRecord, local: boolean): void {
    this.virtual.set(id, { record, hash: Buffer.from(record.hash, 'hex') });
    if (local) for (const l of this.listeners) l(id, record);
  }

  private find(id: string): StoredKey {
    const stored = this.virtual.get(id);
    if (!stored) throw DroverError.notFound(`No API key with id '${id}'.`, 'id');
    return stored;
  }

  private live(id: string): StoredKey {
    const stored = this.find(id);
    if (stored.record.revoked) throw new DroverError('conflict', `API key '${id}' is revoked.`);
    return stored;
  }
}

function principalOf(id: string, r: KeyRecord): Principal {
  return { id, admin: false, models: r.models ?? undefined, rpm: r.rpm ?? undefined, tpm: r.tpm ?? undefined, budgetTokens: r.budget_tokens ?? undefined };
}
