import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { qwen3TokenizerPath } from '../vocabulary';

/** The files of a Hugging Face model directory an engine ships to a gateway through GetTokenizer. */
const SHIPPED = ['tokenizer.json', 'tokenizer_config.json', 'chat_template.jinja', 'chat_template.json', 'generation_config.json', 'config.json', 'special_tokens_map.json'];

/** What the mock serves for one model directory: its files as one ZIP, and what it learns from them. */
export interface MockModelFiles {
  dir: string;
  /** Built at the first GetTokenizer (zipping a large tokenizer.json takes a moment). */
  archive(): { data: Uint8Array; sha256: string };
  /** Plain lowercase word tokens ("Ġhello"), so generated text decodes to readable words. */
  wordIds: number[];
  eosTokenIds: number[];
  vocabSize: number;
  tokenizerJson: string;
}

const byDir = new Map<string, MockModelFiles>();

/** Reads (once per process and directory) a model directory: the bundled Qwen3 one by default. */
export function mockModelFiles(dir: string = qwen3TokenizerPath()): MockModelFiles {
  const known = byDir.get(dir);
  if (known) return known;
  const entries: Record<string, Uint8Array> = {};
  for (const name of SHIPPED) if (existsSync(join(dir, name))) entries[name] = readFileSync(join(dir, name));
  if (!entries['tokenizer.json']) throw new Error(`no tokenizer.json in ${dir}`);
  const tokenizerJson = Buffer.from(entries['tokenizer.json']).toString('utf8');
  const json = JSON.parse(tokenizerJson) as { model: { vocab: Record<string, number> }; added_tokens?: { id: number; content: string }[] };
  const idOf = (t: string | undefined) => (t === undefined ? undefined : (json.model.vocab[t] ?? json.added_tokens?.find((a) => a.content === t)?.id));
  const config = entries['tokenizer_config.json'] ? (JSON.parse(Buffer.from(entries['tokenizer_config.json']).toString('utf8')) as { eos_token?: unknown }) : {};
  const generation = entries['generation_config.json'] ? (JSON.parse(Buffer.from(entries['generation_config.json']).toString('utf8')) as { eos_token_id?: number | number[] }) : {};
  const eosText = typeof config.eos_token === 'string' ? config.eos_token : (config.eos_token as { content?: string } | undefined)?.content;
  const eos = new Set<number>(generation.eos_token_id === undefined ? [] : ([] as number[]).concat(generation.eos_token_id));
  const eosId = idOf(eosText);
  if (eosId !== undefined) eos.add(eosId);
  const wordIds = Object.entries(json.model.vocab)
    .filter(([t]) => /^Ġ[a-z]{3,10}$/.test(t))
    .map(([, id]) => id)
    .sort((a, b) => a - b)
    .slice(0, 4000);
  let vocabSize = Object.keys(json.model.vocab).length;
  for (const a of json.added_tokens ?? []) vocabSize = Math.max(vocabSize, a.id + 1);
  let zipped: { data: Uint8Array; sha256: string } | undefined;
  const archive = () => {
    // Engines zip the tokenizer folder with deflate; level 1 keeps it quick.
    if (!zipped) {
      const data = zipSync(entries, { level: 1, mtime: new Date('2024-01-01T00:00:00Z') });
      zipped = { data, sha256: createHash('sha256').update(data).digest('hex') };
    }
    return zipped;
  };
  const files: MockModelFiles = { dir, archive, wordIds, eosTokenIds: [...eos], vocabSize, tokenizerJson };
  byDir.set(dir, files);
  return files;
}

/** GetTokenizer's chunks: the archive in slices, the hex sha256 of the whole on the last one. */
export function tokenizerChunks(files: MockModelFiles, chunkBytes = 1024 * 1024): { data: Uint8Array; sha256: string }[] {
  const { data, sha256 } = files.archive();
  const out: { data: Uint8Array; sha256: string }[] = [];
  for (let at = 0; at < data.length; at += chunkBytes) {
    const end = Math.min(at + chunkBytes, data.length);
    out.push({ data: data.subarray(at, end), sha256: end === data.length ? sha256 : '' });
  }
  return out;
}
