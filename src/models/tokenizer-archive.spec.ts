import { zipSync, strToU8 } from 'fflate';
import { describe, expect, it } from 'vitest';
import { ArchiveError, readTokenizerArchive } from './tokenizer-archive';

const TOKENIZER = '{"model":{"vocab":{}}}';

describe('readTokenizerArchive', () => {
  it('returns the model files at the root, skipping everything else', () => {
    const zip = zipSync({ 'tokenizer.json': strToU8(TOKENIZER), 'tokenizer_config.json': strToU8('{}'), 'model.safetensors': new Uint8Array(10) });
    const files = readTokenizerArchive(zip);
    expect([...files.keys()].sort()).toEqual(['tokenizer.json', 'tokenizer_config.json']);
    expect(files.get('tokenizer.json')).toBe(TOKENIZER);
  });

  it('takes the files next to tokenizer.json when the archive holds one folder', () => {
    const zip = zipSync({ 'Qwen3-8B/tokenizer.json': strToU8(TOKENIZER), 'Qwen3-8B/chat_template.jinja': strToU8('{{ x }}'), 'other/config.json': strToU8('{}') });
    const files = readTokenizerArchive(zip);
    expect([...files.keys()].sort()).toEqual(['chat_template.jinja', 'tokenizer.json']);
  });

  it.each(['../tokenizer.json', '/etc/tokenizer.json', 'a/../../tokenizer.json', 'C:/tokenizer.json', 'a\\tokenizer.json'])('refuses the escaping entry %s', (name) => {
    const zip = zipSync({ [name]: strToU8(TOKENIZER) });
    expect(() => readTokenizerArchive(zip)).toThrow(/escape/);
  });

  it('caps the entry count before reading anything', () => {
    const entries: Record<string, Uint8Array> = { 'tokenizer.json': strToU8(TOKENIZER) };
    for (let i = 0; i < 20; i++) entries[`f${i}.txt`] = strToU8('x');
    expect(() => readTokenizerArchive(zipSync(entries), { maxEntries: 10, maxUncompressedBytes: 1e9 })).toThrow(/more than 10 entries/);
  });

  it('caps the uncompressed size (a zip bomb is refused before it is inflated)', () => {
    const big = new Uint8Array(4 * 1024 * 1024); // zeros deflate to a few KB
    const zip = zipSync({ 'tokenizer.json': big });
    expect(zip.length).toBeLessThan(64 * 1024);
    expect(() => readTokenizerArchive(zip, { maxEntries: 10, maxUncompressedBytes: 1024 * 1024 })).toThrow(/expands beyond/);
  });

  it('says what is wrong with an archive without tokenizer.json, or no archive at all', () => {
    expect(() => readTokenizerArchive(zipSync({ 'config.json': strToU8('{}') }))).toThrow(/no tokenizer.json/);
    expect(() => readTokenizerArchive(strToU8('not a zip at all, just text'))).toThrow(ArchiveError);
  });
});
