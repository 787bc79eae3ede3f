import type { ReasoningKind, ReasoningOptions, ReasoningParser } from '../types';
import { HarmonyReasoningParser } from '../harmony/harmony-reasoning';
import { TagReasoningParser } from './tag-reasoning';

const TAGS: Record<Exclude<ReasoningKind, 'harmony'>, { open: string; close: string; startInReasoning: boolean }> = {
  think: { open: '<think>', close: '</think>', startInReasoning: false },
  qwen3: { open: '<think>', close: '</think>', startInReasoning: false },
  deepseek_r1: { open: '<think>', close: '</think>', startInReasoning: true },
  magistral: { open: '[THINK]', close: '[/THINK]', startInReasoning: false },
};

export const REASONING_KINDS: readonly ReasoningKind[] = ['think', 'qwen3', 'deepseek_r1', 'magistral', 'harmony'];

/** A streaming reasoning splitter for one response. */
export function createReasoningParser(kind: ReasoningKind, opts: ReasoningOptions = {}): ReasoningParser {
  if (kind === 'harmony') return new HarmonyReasoningParser(opts.enabled ?? true);
  const tags = TAGS[kind];
  if (!tags) throw new Error(`unknown reasoning parser '${String(kind)}'`);
  return new TagReasoningParser({
    open: tags.open,
    close: tags.close,
    startInReasoning: opts.startInReasoning ?? tags.startInReasoning,
    enabled: opts.enabled ?? true,
  });
}

/**
 * Whether a rendered prompt already opened reasoning (it ends with the opening tag, as the QwQ,
 * DeepSeek R1 and Qwen3 thinking templates do): pass the answer as `startInReasoning`.
 */
export function promptOpensReasoning(kind: ReasoningKind | null | undefined, renderedPrompt: string): boolean {
  if (!kind || kind === 'harmony') return false;
  const tags = TAGS[kind];
  return tags !== undefined && renderedPrompt.trimEnd().endsWith(tags.open);
}
