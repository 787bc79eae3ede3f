/**
 * tool_choice required / named are enforced by the engine's structured-output constraint, not
 * hoped for: required admits only a non-empty JSON array of `{"name", "parameters"}` objects
 * naming offered tools, named admits only the function's arguments object. The output parser for
 * the same tool_choice then reads exactly that shape.
 */
import type { ToolChoice, ToolDefinition } from './types';

/** A bad tool_choice / tools combination; `param` names the offending request field. */
export class ToolChoiceError extends Error {
  constructor(
    message: string,
    readonly param: string,
  ) {
    super(message);
    this.name = 'ToolChoiceError';
  }
}

function parametersOf(tool: ToolDefinition): Record<string, unknown> {
  return tool.function.parameters ?? { type: 'object', properties: {} };
}

/**
 * The JSON schema to send as the engine's `json_schema` constraint for this tool_choice, or null
 * when nothing is to be constrained (none, auto, or no tool_choice).
 */
export function toolChoiceConstraint(toolChoice: ToolChoice | null | undefined, tools: readonly ToolDefinition[] | null | undefined): Record<string, unknown> | null {
  if (toolChoice === null || toolChoice === undefined || toolChoice === 'none' || toolChoice === 'auto') return null;
  const list = tools ?? [];
  if (toolChoice === 'required') {
    if (list.length === 0) throw new ToolChoiceError("tool_choice 'required' needs at least one tool in 'tools'", 'tool_choice');
    return {
      type: 'array',
      minItems: 1,
      items: {
        anyOf: list.map((t) => ({
          type: 'object',
          properties: { name: { type: 'string', enum: [t.function.name] }, parameters: parametersOf(t) },
          required: ['name', 'parameters'],
          additionalProperties: false,
        })),
      },
    };
  }
  const name = toolChoice.function?.name;
  const tool = list.find((t) => t.function.name === name);
  if (!tool) throw new ToolChoiceError(`tool_choice names function '${String(name)}', which is not in 'tools'`, 'tool_choice');
  return parametersOf(tool);
}
