import { DroverError, type Rng } from '@drover/runtime';
import {
  createOutputParser,
  parserForModel,
  promptOpensReasoning,
  toolChoiceConstraint,
  ToolChoiceError,
  type OutputChunk,
  type OutputParser,
  type ParserChoice,
  type ToolChoice,
  type ToolDefinition,
} from '@drover/parsers';
import type { ChatMessage, Tokenizer } from '@drover/tokenizer';
import type { Constraint } from './structured-output';

/** Parser choice per model name, computed once (the name-pattern table is not walked per request). */
const choiceByModel = new Map<string, ParserChoice>();

export function parsersOf(model: string): ParserChoice {
  let c = choiceByModel.get(model);
  if (!c) {
    c = parserForModel(model);
    choiceByModel.set(model, c);
  }
  return c;
}

/** What a chat request asks of the output: its tools, tool_choice and reasoning switch, checked. */
export interface OutputPlan {
  tools: ToolDefinition[] | undefined;
  toolChoice: ToolChoice | undefined;
  /** tool_choice required / named, as the engine constraint that enforces it. */
  constraint: { param: string; constraint: Constraint } | undefined;
  /** Whether any parser runs: false costs nothing per token. */
  active: boolean;
  choice: ParserChoice;
  thinking: boolean;
}

/**
 * Validates `tools` / `tool_choice` and decides the parsing for one request. `tool_choice`
 * required / named become the engine's JSON-schema constraint (built by @drover/parsers), so the
 * model cannot answer otherwise.
 */
export function planOutput(model: string, rawTools: unknown, rawChoice: unknown, templateKwargs: Record<string, unknown> | undefined): OutputPlan {
  const tools = toolsOf(rawTools);
  const toolChoice = toolChoiceOf(rawChoice, tools);
  let schema: Record<string, unknown> | null;
  try {
    schema = toolChoiceConstraint(toolChoice, tools);
  } catch (err) {
    if (err instanceof ToolChoiceError) throw new DroverError('invalid_request', err.message, { param: err.param });
    throw err;
  }
  const choice = parsersOf(model);
  // Qwen3 / DeepSeek V3.1 templates take enable_thinking / thinking; false turns reasoning off.
  const thinking = templateKwargs?.enable_thinking !== false && templateKwargs?.thinking !== false;
  const parsesTools = tools !== undefined && tools.length > 0 && toolChoice !== 'none';
  return {
    tools,
    toolChoice,
    constraint: schema ? { param: 'tool_choice', constraint: { jsonSchema: JSON.stringify(schema) } } : undefined,
    active: choice.reasoning !== null || (parsesTools && (choice.toolParser !== null || schema !== null)),
    choice,
    thinking,
  };
}

/** The per-response parser (undefined when the plan parses nothing). */
export function outputParser(plan: OutputPlan, promptText: string, rng: Rng): OutputParser | undefined {
  if (!plan.active) return undefined;
  const kind = plan.choice.reasoning;
  return createOutputParser({
    reasoning: kind,
    thinking: kind ? { enabled: plan.thinking, startInReasoning: plan.thinking && promptOpensReasoning(kind, promptText) } : undefined,
    toolParser: plan.choice.toolParser,
    tools: plan.tools,
    toolChoice: plan.toolChoice,
    rng,
  });
}

/** One parsed piece as an OpenAI chat delta (undefined when there is nothing to send yet). */
export function chatDelta(out: OutputChunk): Record<string, unknown> | undefined {
  const d: Record<string, unknown> = {};
  if (out.reasoning) d.reasoning_content = out.reasoning;
  if (out.content) d.content = out.content;
  if (out.calls.length > 0) {
    d.tool_calls = out.calls.map((c) => ({
      index: c.index,
      ...(c.id !== undefined ? { id: c.id, type: 'function' } : {}),
      function: { ...(c.name !== undefined ? { name: c.name } : {}), arguments: c.argumentsDelta ?? '' },
    }));
  }
  return Object.keys(d).length > 0 ? d : undefined;
}

function toolsOf(raw: unknown): ToolDefinition[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw)) throw new DroverError('invalid_request', "'tools' must be an array.", { param: 'tools' });
  raw.forEach((t, i) => {
    const f = (t as { function?: { name?: unknown; parameters?: unknown } } | null)?.function;
    if (typeof t !== 'object' || t === null || (t as { type?: unknown }).type !== 'function' || typeof f?.name !== 'string' || f.name.length === 0) {
      throw new DroverError('invalid_request', "Each tool must be {type: 'function', function: {name, parameters?}}.", { param: `tools[${i}]` });
    }
    if (f.parameters !== undefined && (typeof f.parameters !== 'object' || f.parameters === null || Array.isArray(f.parameters))) {
      throw new DroverError('invalid_request', 'A function\'s parameters must be a JSON schema object.', { param: `tools[${i}].function.parameters` });
    }
  });
  return raw as ToolDefinition[];
}

function toolChoiceOf(raw: unknown, tools: ToolDefinition[] | undefined): ToolChoice | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (raw === 'none' || raw === 'auto' || raw === 'required') {
    if (raw === 'required' && (tools === undefined || tools.length === 0)) throw new DroverError('invalid_request', "tool_choice 'required' needs at least one tool in 'tools'.", { param: 'tool_choice' });
    return raw;
  }
  const name = (raw as { function?: { name?: unknown } } | null)?.function?.name;
  if (typeof raw === 'object' && (raw as { type?: unknown }).type === 'function' && typeof name === 'string') return { type: 'function', function: { name } };
  throw new DroverError('invalid_request', "tool_choice must be 'none', 'auto', 'required' or {type: 'function', function: {name}}.", { param: 'tool_choice' });
}

/** Templates that render a call's arguments with `tojson` / `.items()` want the object, not the client's JSON string. */
const wantsObjects = new WeakMap<Tokenizer, boolean>();

export function templateArguments(tokenizer: Tokenizer, messages: ChatMessage[]): ChatMessage[] {
  if (!messages.some((m) => m.tool_calls && m.tool_calls.length > 0)) return messages;
  let wants = wantsObjects.get(tokenizer);
  if (wants === undefined) {
    wants = /arguments\s*\|\s*tojson|arguments\.items\(\)/.test(tokenizer.chatTemplate ?? '');
    wantsObjects.set(tokenizer, wants);
  }
  return wants ? messages.map((m) => (m.tool_calls ? { ...m, tool_calls: m.tool_calls.map(withParsedArguments) } : m)) : messages;
}

/** The call with its JSON-string arguments parsed (left as they are when they do not parse to an object). */
function withParsedArguments(call: unknown): unknown {
  const fn = (call as { function?: { arguments?: unknown } } | null)?.function;
  if (typeof fn?.arguments !== 'string') return call;
  try {
    const parsed: unknown = JSON.parse(fn.arguments);
    return typeof parsed === 'object' && parsed !== null ? { ...(call as object), function: { ...fn, arguments: parsed } } : call;
  } catch {
    return call;
  }
}
