import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { collectTokenizerArchive } from './tokenizer-download';

async function* chunks(parts: { data?: Uint8Array; sha256?: string }[]) {
  yield* parts;
}

const bytes = (s: string) => new TextEncoder().encode(s);
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

describe('collectTokenizerArchive', () => {
  it('joins the chunks and checks the sha256 on the last one', async () => {
    const r = await collectTokenizerArchive(chunks([{ data: bytes('hello ') }, { data: bytes('world'), sha256: sha('hello world') }]));
    expect(r.archive.toString()).toBe('hello world');
    expect(r.sha256).toBe(sha('hello world'));
  });

  it('refuses a corrupted archive, one without a checksum, and an empty one', async () => {
    await expect(collectTokenizerArchive(chunks([{ data: bytes('hello') }, { data: bytes('world'), sha256: sha('hello world') }]))).rejects.toThrow(/sha256 mismatch/);
    await expect(collectTokenizerArchive(chunks([{ data: bytes('hello') }]))).rejects.toThrow(/no sha256/);
    await expect(collectTokenizerArchive(chunks([]))).rejects.toThrow(/empty/);
  });

  it('stops reading once the archive passes the cap', async () => {
    let pulled = 0;
    async function* endless() {
      for (;;) {
        pulled++;
        yield { data: new Uint8Array(1000) };
      }
    }
    await expect(collectTokenizerArchive(endless(), 5000)).rejects.toThrow(/exceeds 5000 bytes/);
    expect(pulled).toBe(6);
  });
});
