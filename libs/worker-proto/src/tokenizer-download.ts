import { createHash } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { WorkerRpcError } from './errors';

/** Largest tokenizer archive a worker may send (a 200k-vocabulary tokenizer.json zips to ~10 MB). */
export const DEFAULT_MAX_TOKENIZER_ARCHIVE_BYTES = 256 * 1024 * 1024;

/**
 * Joins a GetTokenizer chunk stream into the ZIP it carries and checks it against the hex sha256
 * the last chunk names. Stops reading (and fails) as soon as the archive grows past `maxBytes`,
 * so a misbehaving worker cannot make the gateway buffer without bound.
 */
export async function collectTokenizerArchive(chunks: AsyncIterable<{ data?: Uint8Array; sha256?: string }>, maxBytes = DEFAULT_MAX_TOKENIZER_ARCHIVE_BYTES): Promise<{ archive: Buffer; sha256: string }> {
  const parts: Buffer[] = [];
  const hash = createHash('sha256');
  let total = 0;
  let declared = '';
  for await (const chunk of chunks) {
    const data = chunk.data ? Buffer.from(chunk.data.buffer, chunk.data.byteOffset, chunk.data.byteLength) : Buffer.alloc(0);
    total += data.length;
    if (total > maxBytes) throw new WorkerRpcError(status.RESOURCE_EXHAUSTED, `tokenizer archive exceeds ${maxBytes} bytes`);
    hash.update(data);
    parts.push(data);
    if (chunk.sha256) declared = chunk.sha256.toLowerCase();
  }
  const actual = hash.digest('hex');
  if (total === 0) throw new WorkerRpcError(status.DATA_LOSS, 'tokenizer archive is empty');
  if (!declared) throw new WorkerRpcError(status.DATA_LOSS, 'tokenizer archive has no sha256 on its last chunk');
  if (declared !== actual) throw new WorkerRpcError(status.DATA_LOSS, `tokenizer archive sha256 mismatch (worker said ${declared}, received ${actual})`);
  return { archive: Buffer.concat(parts, total), sha256: actual };
}
