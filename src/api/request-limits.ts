/**
 * Caps on the parts of a request whose cost grows with their count or length beyond what the body
 * size limit alone bounds: every stop string is checked against every decoded token, every tool
 * and message is rendered into the prompt, every prompt of a completions batch is its own
 * generation. Over a cap is a 400 naming the parameter, before admission and tokenizing. The caps
 * follow OpenAI's published limits where there are some (128 tools, 2048 messages, 16 metadata
 * pairs) and are generous elsewhere.
 */
export const REQUEST_LIMITS = {
  /** Stop sequences per request (OpenAI takes 4; engines take more). */
  stopSequences: 16,
  /** Characters per stop sequence. */
  stopChars: 1024,
  /** stop_token_ids entries. */
  stopTokenIds: 256,
  /** Tools (function definitions) per request. */
  tools: 128,
  /** Messages (or Responses input items) per request. */
  messages: 2048,
  /** Content parts per message. */
  contentParts: 1024,
  /** Prompts in one completions request (each is a generation). */
  prompts: 128,
  /** Metadata pairs, and their key and value lengths. */
  metadataPairs: 16,
  metadataKeyChars: 64,
  metadataValueChars: 512,
  /** The `user` / `metadata.user_id` label (it keys routing and logs). */
  userChars: 512,
} as const;
