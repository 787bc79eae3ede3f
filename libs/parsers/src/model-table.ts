/**
 * Parser choice by model name: an explicit override wins, else the first matching pattern, else
 * none (pass-through). Patterns match anywhere in the name, case-insensitively, so
 * "Qwen/Qwen3-8B" and "qwen3-8b-awq" both match qwen.
 */
import type { ReasoningKind, ToolParserKind } from './types';

export interface ParserChoice {
  reasoning: ReasoningKind | null;
  toolParser: ToolParserKind | null;
}

export interface ParserOverrides {
  /** 'none' turns reasoning parsing off for the model. */
  reasoning?: ReasoningKind | 'none' | null;
  toolParser?: ToolParserKind | 'none' | null;
}

/** Ordered: the first match wins, so specific names come before general ones. */
export const MODEL_PARSER_TABLE: ReadonlyArray<{ pattern: RegExp } & ParserChoice> = [
  { pattern: /gpt-oss/i, reasoning: 'harmony', toolParser: 'harmony' },
  { pattern: /deepseek-r1/i, reasoning: 'deepseek_r1', toolParser: 'deepseek_v3' },
  { pattern: /deepseek-v3/i, reasoning: null, toolParser: 'deepseek_v3' },
  { pattern: /qwq/i, reasoning: 'deepseek_r1', toolParser: 'hermes' },
  { pattern: /qwen/i, reasoning: 'qwen3', toolParser: 'hermes' },
  { pattern: /hermes/i, reasoning: null, toolParser: 'hermes' },
  { pattern: /llama-?4/i, reasoning: null, toolParser: 'pythonic' },
  { pattern: /llama-?3/i, reasoning: null, toolParser: 'llama3_json' },
  { pattern: /magistral/i, reasoning: 'magistral', toolParser: 'mistral' },
  { pattern: /mistral|mixtral|ministral|devstral|codestral/i, reasoning: null, toolParser: 'mistral' },
  { pattern: /kimi-k2/i, reasoning: 'think', toolParser: 'kimi_k2' },
];

export function parserForModel(modelName: string, overrides: ParserOverrides = {}): ParserChoice {
  const row = MODEL_PARSER_TABLE.find((r) => r.pattern.test(modelName));
  const pick = <T>(override: T | 'none' | null | undefined, fallback: T | null): T | null =>
    override === 'none' ? null : override !== undefined && override !== null ? override : fallback;
  return {
    reasoning: pick(overrides.reasoning, row ? row.reasoning : null),
    toolParser: pick(overrides.toolParser, row ? row.toolParser : null),
  };
}
