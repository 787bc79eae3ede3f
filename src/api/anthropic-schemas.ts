import { z } from 'zod';
import { REQUEST_LIMITS as L } from './request-limits';

const textBlock = z.looseObject({ type: z.literal('text'), text: z.string() });
const imageBlock = z.looseObject({
  type: z.literal('image'),
  source: z.looseObject({ type: z.enum(['base64', 'url']), media_type: z.string().optional(), data: z.string().optional(), url: z.string().optional() }),
});
const toolUseBlock = z.looseObject({ type: z.literal('tool_use'), id: z.string().min(1), name: z.string().min(1), input: z.unknown() });
const toolResultBlock = z.looseObject({
  type: z.literal('tool_result'),
  tool_use_id: z.string().min(1),
  content: z.union([z.string(), z.array(z.union([textBlock, imageBlock]))]).optional(),
  is_error: z.boolean().optional(),
});
const thinkingBlock = z.looseObject({ type: z.literal('thinking'), thinking: z.string(), signature: z.string().optional() });
const redactedThinkingBlock = z.looseObject({ type: z.literal('redacted_thinking'), data: z.string() });
const content = z.union([z.string(), z.array(z.union([textBlock, imageBlock, toolUseBlock, toolResultBlock, thinkingBlock, redactedThinkingBlock])).min(1).max(L.contentParts)]);

const tool = z.looseObject({ name: z.string().min(1), description: z.string().optional(), input_schema: z.record(z.string(), z.unknown()) });
const toolChoice = z.looseObject({ type: z.enum(['auto', 'any', 'tool', 'none']), name: z.string().optional(), disable_parallel_tool_use: z.boolean().optional() });

export const messagesSchema = z.looseObject({
  model: z.string().min(1),
  max_tokens: z.number().int().min(1),
  messages: z.array(z.looseObject({ role: z.enum(['user', 'assistant']), content })).min(1).max(L.messages),
  system: z.union([z.string(), z.array(textBlock)]).optional(),
  stop_sequences: z.array(z.string().max(L.stopChars)).max(L.stopSequences).optional(),
  stream: z.boolean().optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().gt(0).max(1).optional(),
  top_k: z.number().int().min(1).optional(),
  metadata: z.looseObject({ user_id: z.string().max(L.userChars).optional() }).optional(),
  tools: z.array(tool).max(L.tools).optional(),
  tool_choice: toolChoice.optional(),
  thinking: z.looseObject({ type: z.enum(['enabled', 'disabled']), budget_tokens: z.number().int().optional() }).optional(),
});

export type MessagesBody = z.infer<typeof messagesSchema>;
export type AnthropicBlock = Exclude<MessagesBody['messages'][number]['content'], string>[number];
