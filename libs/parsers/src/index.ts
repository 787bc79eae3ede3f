/**
 * @drover/parsers: turns a model's raw streamed text into what the APIs return — reasoning
 * (`reasoning_content`, Anthropic `thinking`, Responses `reasoning`), content, and OpenAI-style
 * tool-call deltas — incrementally, for any split of the text into pieces.
 *
 * Typical use, one parser per response (per choice):
 *
 *   const choice = parserForModel(modelName, { reasoning: flagOrUndefined, toolParser: flagOrUndefined });
 *   const constraint = toolChoiceConstraint(body.tool_choice, body.tools); // → engine json_schema, or null
 *   const parser = createOutputParser({ ...choice, tools: body.tools, toolChoice: body.tool_choice,
 *     thinking: { enabled: enableThinking, startInReasoning: promptOpensReasoning(kind, prompt) }, rng });
 *   for each decoded piece: const { reasoning, content, calls } = parser.push(piece);
 *   at the end:             const { reasoning, content, calls, finishReason } = parser.flush();
 *   finish_reason = finishReason ?? the engine's ("stop" / "length")
 *   non-streaming tool_calls: collectToolCalls(all calls deltas) (or a ToolCallAccumulator)
 *
 * Guarantees (tested by splitting scripted outputs at every boundary): the concatenated output is
 * the same for every split; no text is released while it may still be the start of a marker;
 * a call's id and name come in its first delta, arguments follow as fragments whose concatenation
 * is valid JSON of an object. Formats and rules: docs/parsers.md.
 */
export type {
  ReasoningKind,
  ToolParserKind,
  ConstrainedToolKind,
  ReasoningOptions,
  ReasoningChunk,
  ReasoningParser,
  ToolCallDelta,
  ToolCall,
  ToolChunk,
  ToolFlush,
  ToolCallParser,
  ToolDefinition,
  ToolChoice,
  OutputChunk,
  OutputFlush,
  OutputParser,
} from './types';
export { createReasoningParser, promptOpensReasoning, REASONING_KINDS } from './reasoning';
export { createToolCallParser, TOOL_PARSER_KINDS, type CreateToolParserOptions } from './tools';
export { createOutputParser, type OutputParserOptions } from './output-parser';
export { parserForModel, MODEL_PARSER_TABLE, type ParserChoice, type ParserOverrides } from './model-table';
export { toolChoiceConstraint, ToolChoiceError } from './tool-choice';
export { collectToolCalls, ToolCallAccumulator } from './accumulate';
export { newCallId } from './call-sink';
