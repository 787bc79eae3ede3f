import { z } from 'zod';

/**
 * A virtual key as it is stored and replicated mesh-wide (the registry document's `keys` map):
 * the hash, never the key. Revocation is a flag, not a removal, so no older write replayed by a
 * late peer can bring a revoked key back.
 */
export const keyRecordSchema = z.object({
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  name: z.string().max(200),
  models: z.array(z.string().max(256)).max(256).nullable(),
  rpm: z.number().int().min(1).nullable(),
  tpm: z.number().int().min(1).nullable(),
  budget_tokens: z.number().int().min(1).nullable(),
  metadata: z.record(z.string().max(128), z.string().max(1024)),
  created_at: z.number(),
  revoked: z.boolean(),
});

export type KeyRecord = z.infer<typeof keyRecordSchema>;

/** What the admin API accepts when creating a key. */
export const createKeySchema = z.strictObject({
  name: z.string().max(200).optional(),
  models: z.array(z.string().min(1).max(256)).min(1).max(256).optional(),
  rpm: z.number().int().min(1).optional(),
  tpm: z.number().int().min(1).optional(),
  budget_tokens: z.number().int().min(1).optional(),
  metadata: z.record(z.string().max(128), z.string().max(1024)).refine((m) => Object.keys(m).length <= 32, 'at most 32 metadata entries').optional(),
});

export type CreateKeyInput = z.infer<typeof createKeySchema>;

/** The admin API's view of a key: everything but the hash. */
export function publicView(id: string, r: KeyRecord, spentTokens: number): Record<string, unknown> {
  return {
    id,
    object: 'api_key',
    name: r.name,
    models: r.models,
    rpm: r.rpm,
    tpm: r.tpm,
    budget_tokens: r.budget_tokens,
    spent_tokens: spentTokens,
    metadata: r.metadata,
    created_at: Math.floor(r.created_at / 1000),
    revoked: r.revoked,
  };
}
