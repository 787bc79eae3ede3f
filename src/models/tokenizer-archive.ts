import { unzipSync } from 'fflate';
import { posix } from 'node:path';

export interface ArchiveLimits {
  /** Entries in the archive's central directory, read or not. */
  maxEntries: number;
  /** Sum of the uncompressed sizes of the entries read. */
  maxUncompressedBytes: number;
}

export const DEFAULT_ARCHIVE_LIMITS: ArchiveLimits = { maxEntries: 512, maxUncompressedBytes: 1024 * 1024 * 1024 };

/** The files of a model directory the gateway reads; everything else in an archive is skipped. */
export const MODEL_FILES = ['tokenizer.json', 'tokenizer_config.json', 'chat_template.jinja', 'chat_template.json', 'generation_config.json', 'config.json'] as const;
export type ModelFileName = (typeof MODEL_FILES)[number];

export class ArchiveError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArchiveError';
  }
}

/**
 * Reads a tokenizer ZIP from a worker: refuses entry names that could escape a folder (absolute,
 * `..`, backslashes, drive letters), caps the entry count and the declared uncompressed size
 * before inflating anything (fflate inflates into a buffer of exactly the declared size, so a
 * lying header cannot grow it), and returns the model files found next to tokenizer.json (the
 * archive may hold them at its root or in one folder).
 */
export function readTokenizerArchive(zip: Uint8Array, limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS): Map<ModelFileName, string> {
  const wanted = new Set<string>(MODEL_FILES);
  let entries = 0;
  let uncompressed = 0;
  let raw: Record<string, Uint8Array>;
  try {
    raw = unzipSync(zip, {
      filter: (f) => {
        if (++entries > limits.maxEntries) throw new ArchiveError(`archive has more than ${limits.maxEntries} entries`);
        checkEntryName(f.name);
        if (!wanted.has(posix.basename(f.name))) return false;
        uncompressed += f.originalSize;
        if (uncompressed > limits.maxUncompressedBytes) throw new ArchiveError(`archive expands beyond ${limits.maxUncompressedBytes} bytes`);
        return true;
      },
    });
  } catch (err) {
    if (err instanceof ArchiveError) throw err;
    throw new ArchiveError(`not a readable ZIP archive: ${(err as Error).message}`);
  }
  const names = Object.keys(raw);
  const anchor = names.filter((n) => posix.basename(n) === 'tokenizer.json').sort((a, b) => depth(a) - depth(b))[0];
  if (anchor === undefined) throw new ArchiveError('archive has no tokenizer.json');
  const folder = posix.dirname(anchor);
  const out = new Map<ModelFileName, string>();
  const text = new TextDecoder('utf-8', { fatal: true });
  for (const name of names) {
    if (posix.dirname(name) !== folder) continue;
    try {
      out.set(posix.basename(name) as ModelFileName, text.decode(raw[name]));
    } catch {
      throw new ArchiveError(`${name} is not UTF-8 text`);
    }
  }
  return out;
}

function checkEntryName(name: string): void {
  const bad =
    name.length === 0 ||
    name.includes('\0') ||
    name.includes('\\') ||
    name.startsWith('/') ||
    /^[A-Za-z]:/.test(name) ||
    name.split('/').some((part) => part === '..');
  if (bad) throw new ArchiveError(`archive entry '${name.replace(/[^\x20-\x7e]/g, '?')}' would escape the tokenizer folder`);
}

function depth(name: string): number {
  return name.split('/').length;
}
