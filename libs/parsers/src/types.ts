/**
 * Shared shapes of @drover/parsers. Every parser is a streaming state machine: `push(text)` takes
 * the next piece of decoded model output (any split, even mid-marker or mid-UTF-16 pair is fine
 * as long as the concatenation is the whole output) and returns only what is safe to show now;
 * `flush()` ends the stream and returns whatever was still held back.
 */

/** Reasoning formats. `think` is the generic `<think>…</think>` (Qwen3, QwQ, Kimi K2, GLM-4.5). */
export type ReasoningKind = 'think' | 'qwen3' | 'deepseek_r1' | 'magistral' | 'harmony';

/** Native tool-call formats a model emits on its own (tool_choice auto). */
export type ToolParserKind =
  | 'hermes'
  | 'llama3_json'
  | 'mistral'
  | 'deepseek_v3'
  | 'pythonic'
  | 'harmony'
  | 'kimi_k2';

/**
 * Formats of output produced under a tool_choice constraint (see toolChoiceConstraint):
 * `json_array` is `[{"name": …, "parameters": {…}}, …]` (required), `named` is the bare
 * arguments object of one known function (named).
 */
export type ConstrainedToolKind = 'json_array' | 'named';

export interface ReasoningOptions {
  /**
   * The output starts already inside reasoning because the prompt ended with the opening tag
   * (DeepSeek R1, QwQ, Qwen3 thinking templates). Defaults per kind: deepseek_r1 true, others
   * false. A redundant opening tag at the very start is accepted either way.
   */
  startInReasoning?: boolean;
  /** false: reasoning is off for this request (enable_thinking false); all text is content. */
  enabled?: boolean;
}

export interface ReasoningChunk {
  reasoning: string;
  content: string;
}

export interface ReasoningParser {
  push(text: string): ReasoningChunk;
  flush(): ReasoningChunk;
}

/**
 * One OpenAI-style streaming tool-call delta. The first delta of a call carries `id` and `name`
 * (sent once the name is complete); later ones carry `argumentsDelta`. Concatenating every
 * `argumentsDelta` of one index gives the call's arguments as valid JSON (an object).
 */
export interface ToolCallDelta {
  index: number;
  id?: string;
  name?: string;
  argumentsDelta?: string;
}

/** A completed call, as in a non-streaming OpenAI `tool_calls` array. */
export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface ToolChunk {
  /** Plain text safe to emit now (never the start of a marker that may still complete). */
  text: string;
  calls: ToolCallDelta[];
}

export interface ToolFlush extends ToolChunk {
  /** "tool_calls" when at least one call was parsed in the whole stream, else null. */
  finishReason: 'tool_calls' | null;
  /** Calls whose text broke off or was malformed after the name was sent (arguments repaired). */
  malformed: number;
  /** Calls to names the request's tools did not offer (kept as calls; see docs/parsers.md). */
  unknownTools: number;
}

export interface ToolCallParser {
  push(text: string): ToolChunk;
  flush(): ToolFlush;
}

/** The subset of an OpenAI tool definition the parsers need. */
export interface ToolDefinition {
  type?: 'function' | string;
  function: { name: string; description?: string; parameters?: Record<string, unknown> };
}

/** OpenAI `tool_choice`. */
export type ToolChoice = 'none' | 'auto' | 'required' | { type: 'function'; function: { name: string } };

export interface OutputChunk {
  reasoning: string;
  content: string;
  calls: ToolCallDelta[];
}

export interface OutputFlush extends OutputChunk {
  finishReason: 'tool_calls' | null;
  malformed: number;
  unknownTools: number;
}

export interface OutputParser {
  push(text: string): OutputChunk;
  flush(): OutputFlush;
}
