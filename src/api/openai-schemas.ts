import { z } from 'zod';
import { REQUEST_LIMITS as L } from './request-limits';

const textPart = z.looseObject({ type: z.literal('text'), text: z.string() });
const imagePart = z.looseObject({ type: z.literal('image_url'), image_url: z.unknown() });
const contentSchema = z.union([z.string(), z.array(z.union([textPart, imagePart])).max(L.contentParts)]).nullable().optional();

export const chatMessageSchema = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
  content: contentSchema,
  name: z.string().optional(),
  tool_calls: z.array(z.unknown()).optional(),
  tool_call_id: z.string().optional(),
  reasoning_content: z.string().nullable().optional(),
});

const stopString = z.string().max(L.stopChars);
const stopSchema = z.union([stopString, z.array(stopString).max(L.stopSequences)]).nullable().optional();
const positiveInt = z.number().int().min(1).nullable().optional();

/** Sampling fields shared by chat and completions (OpenAI's plus the common engine extensions). */
const samplingFields = {
  model: z.string().min(1),
  stream: z.boolean().nullable().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional(),
  max_tokens: positiveInt,
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().gt(0).max(1).nullable().optional(),
  top_k: z.number().int().min(-1).nullable().optional(),
  min_p: z.number().min(0).max(1).nullable().optional(),
  frequency_penalty: z.number().min(-2).max(2).nullable().optional(),
  presence_penalty: z.number().min(-2).max(2).nullable().optional(),
  repetition_penalty: z.number().gt(0).max(2).nullable().optional(),
  stop: stopSchema,
  stop_token_ids: z.array(z.number().int().min(0)).max(L.stopTokenIds).nullable().optional(),
  seed: z.number().int().nullable().optional(),
  n: z.number().int().min(1).max(128).nullable().optional(),
  user: z.string().max(L.userChars).optional(),
  ignore_eos: z.boolean().optional(),
  min_tokens: z.number().int().min(0).optional(),
  skip_special_tokens: z.boolean().optional(),
};

export const chatCompletionSchema = z.looseObject({
  ...samplingFields,
  messages: z.array(chatMessageSchema).min(1).max(L.messages),
  max_completion_tokens: positiveInt,
  tools: z.array(z.unknown()).max(L.tools).nullable().optional(),
  tool_choice: z.unknown().optional(),
  response_format: z.looseObject({ type: z.enum(['text', 'json_object', 'json_schema', 'structural_tag']) }).nullable().optional(),
  logprobs: z.boolean().nullable().optional(),
  top_logprobs: z.number().int().min(0).max(20).nullable().optional(),
  chat_template_kwargs: z.record(z.string(), z.unknown()).optional(),
});

export const completionSchema = z.looseObject({
  ...samplingFields,
  prompt: z.union([z.string(), z.array(z.string()).min(1).max(L.prompts), z.array(z.number().int().min(0)).min(1), z.array(z.array(z.number().int().min(0)).min(1)).min(1).max(L.prompts)]),
  echo: z.boolean().nullable().optional(),
  logprobs: z.number().int().min(0).max(20).nullable().optional(),
  suffix: z.string().nullable().optional(),
});

export const tokenizeSchema = z.looseObject({
  model: z.string().optional(),
  prompt: z.string().optional(),
  messages: z.array(chatMessageSchema).max(L.messages).optional(),
  add_special_tokens: z.boolean().optional(),
  add_generation_prompt: z.boolean().optional(),
});

export const detokenizeSchema = z.looseObject({
  model: z.string().optional(),
  tokens: z.array(z.number().int().min(0)),
});

export type ChatCompletionBody = z.infer<typeof chatCompletionSchema>;
export type CompletionBody = z.infer<typeof completionSchema>;
