import { z } from 'zod';

const inputText = z.looseObject({ type: z.enum(['input_text', 'output_text', 'text']), text: z.string() });
const inputMessage = z.looseObject({
  type: z.literal('message').optional(),
  role: z.enum(['system', 'developer', 'user', 'assistant']),
  content: z.union([z.string(), z.array(inputText)]),
});

export const responsesSchema = z.looseObject({
  model: z.string().min(1),
  input: z.union([z.string(), z.array(inputMessage).min(1)]),
  instructions: z.string().nullable().optional(),
  max_output_tokens: z.number().int().min(1).nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().gt(0).max(1).nullable().optional(),
  stream: z.boolean().nullable().optional(),
  store: z.boolean().nullable().optional(),
  previous_response_id: z.string().nullable().optional(),
  user: z.string().optional(),
  metadata: z.record(z.string(), z.string()).nullable().optional(),
  text: z.looseObject({ format: z.looseObject({ type: z.enum(['text', 'json_object', 'json_schema']) }).optional() }).nullable().optional(),
  top_logprobs: z.number().int().min(0).max(20).nullable().optional(),
});

export type ResponsesBody = z.infer<typeof responsesSchema>;
