import { z } from 'zod';
import { REQUEST_LIMITS as L } from './request-limits';

const inputText = z.looseObject({ type: z.enum(['input_text', 'output_text', 'text']), text: z.string() });
const inputMessage = z.looseObject({
  type: z.literal('message').optional(),
  role: z.enum(['system', 'developer', 'user', 'assistant']),
  content: z.union([z.string(), z.array(inputText).max(L.contentParts)]),
});
const functionCall = z.looseObject({ type: z.literal('function_call'), call_id: z.string().min(1), name: z.string().min(1), arguments: z.string() });
const functionCallOutput = z.looseObject({
  type: z.literal('function_call_output'),
  call_id: z.string().min(1),
  output: z.union([z.string(), z.array(z.looseObject({ type: z.string(), text: z.string().optional() }))]),
});
const reasoningText = z.looseObject({ type: z.string(), text: z.string() });
const reasoning = z.looseObject({ type: z.literal('reasoning'), summary: z.array(reasoningText).optional(), content: z.array(reasoningText).nullable().optional() });

const tool = z.looseObject({ type: z.string(), name: z.string().optional(), description: z.string().nullable().optional(), parameters: z.record(z.string(), z.unknown()).nullable().optional() });

export const responsesSchema = z.looseObject({
  model: z.string().min(1),
  input: z.union([z.string(), z.array(z.union([functionCall, functionCallOutput, reasoning, inputMessage])).min(1).max(L.messages)]),
  instructions: z.string().nullable().optional(),
  max_output_tokens: z.number().int().min(1).nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().gt(0).max(1).nullable().optional(),
  stream: z.boolean().nullable().optional(),
  store: z.boolean().nullable().optional(),
  previous_response_id: z.string().nullable().optional(),
  user: z.string().max(L.userChars).optional(),
  metadata: z
    .record(z.string().max(L.metadataKeyChars), z.string().max(L.metadataValueChars))
    .refine((m) => Object.keys(m).length <= L.metadataPairs, { message: `at most ${L.metadataPairs} pairs` })
    .nullable()
    .optional(),
  text: z.looseObject({ format: z.looseObject({ type: z.enum(['text', 'json_object', 'json_schema']) }).optional() }).nullable().optional(),
  top_logprobs: z.number().int().min(0).max(20).nullable().optional(),
  tools: z.array(tool).max(L.tools).nullable().optional(),
  tool_choice: z.union([z.enum(['none', 'auto', 'required']), z.looseObject({ type: z.string(), name: z.string().optional() })]).nullable().optional(),
  parallel_tool_calls: z.boolean().nullable().optional(),
  reasoning: z.looseObject({ effort: z.string().nullable().optional() }).nullable().optional(),
});

export type ResponsesBody = z.infer<typeof responsesSchema>;
export type ResponsesInputItem = Exclude<ResponsesBody['input'], string>[number];
