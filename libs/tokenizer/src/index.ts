export { Tokenizer, defaultTokenizerDir, type ChatMessage, type ChatTemplateOptions, type TokenizerCacheStats, type CacheStats, type TokenizerLoadOptions, type TokenizerFiles } from './tokenizer';
export { IncrementalDecoder, type DecoderOptions, type DecodeStep } from './incremental-decoder';
export { ByteDecoder, type AddedToken } from './byte-decoder';
export { LruByteCache } from './lru-byte-cache';
export { TokenizerPool, DEFAULT_OFFLOAD_CHARS, type TokenizerOffload, type TokenizerPoolOptions } from './tokenizer-pool';
