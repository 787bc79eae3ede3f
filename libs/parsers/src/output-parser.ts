/**
 * The one object an integrator needs per response: reasoning is split off first, then tool calls
 * are parsed out of the content (calls inside reasoning stay reasoning). Which tool parser runs
 * follows tool_choice: none → no parsing; auto → the model's own format; required → the
 * `[{"name", "parameters"}]` array the required-constraint forces; named → the whole output is
 * that function's arguments (see toolChoiceConstraint).
 */
import type { Rng } from '@drover/runtime';
import { createReasoningParser } from './reasoning';
import { createToolCallParser } from './tools';
import { PassThroughToolParser } from './tools/passthrough';
import type { OutputChunk, OutputFlush, OutputParser, ReasoningChunk, ReasoningKind, ReasoningOptions, ReasoningParser, ToolCallParser, ToolChoice, ToolDefinition, ToolParserKind } from './types';

export interface OutputParserOptions {
  /** Reasoning format (null: none, all text is content). */
  reasoning?: ReasoningKind | null;
  /** Per-request reasoning switches (enable_thinking, whether the prompt opened reasoning). */
  thinking?: ReasoningOptions;
  /** The model's native tool-call format (null: none). */
  toolParser?: ToolParserKind | null;
  /** The request's tools; without tools nothing is parsed as a call. */
  tools?: readonly ToolDefinition[] | null;
  toolChoice?: ToolChoice | null;
  /** Source of call ids. */
  rng: Rng;
}

class NoReasoning implements ReasoningParser {
  push(text: string): ReasoningChunk {
    return { reasoning: '', content: text };
  }

  flush(): ReasoningChunk {
    return { reasoning: '', content: '' };
  }
}

function toolParserFor(opts: OutputParserOptions): ToolCallParser {
  const choice = opts.toolChoice ?? 'auto';
  const tools = opts.tools ?? [];
  if (tools.length === 0 || choice === 'none') return new PassThroughToolParser();
  if (choice === 'required') return createToolCallParser('json_array', { tools, rng: opts.rng });
  if (typeof choice === 'object') return createToolCallParser('named', { tools, rng: opts.rng, name: choice.function.name });
  if (!opts.toolParser) return new PassThroughToolParser();
  return createToolCallParser(opts.toolParser, { tools, rng: opts.rng });
}

/** tool_choice required / named: the engine constrains the output from its first token. */
function constrained(choice: ToolChoice | null | undefined, tools: readonly ToolDefinition[] | null | undefined): boolean {
  return (tools ?? []).length > 0 && (choice === 'required' || (typeof choice === 'object' && choice !== null));
}

export function createOutputParser(opts: OutputParserOptions): OutputParser {
  // Under a constraint the output is the constrained JSON from the first token, never inside
  // reasoning, whatever the template opened.
  const thinking = constrained(opts.toolChoice, opts.tools) ? { ...opts.thinking, startInReasoning: false } : opts.thinking;
  const reasoning = opts.reasoning ? createReasoningParser(opts.reasoning, thinking) : new NoReasoning();
  const tools = toolParserFor(opts);
  return {
    push(text: string): OutputChunk {
      const r = reasoning.push(text);
      const t = tools.push(r.content);
      return { reasoning: r.reasoning, content: t.text, calls: t.calls };
    },
    flush(): OutputFlush {
      const r = reasoning.flush();
      const t = tools.push(r.content);
      const f = tools.flush();
      return {
        reasoning: r.reasoning,
        content: t.text + f.text,
        calls: [...t.calls, ...f.calls],
        finishReason: f.finishReason,
        malformed: f.malformed,
        unknownTools: f.unknownTools,
      };
    },
  };
}
