import { z } from 'zod';

const textBlock = z.looseObject({ type: z.literal('text'), text: z.string() });
const imageBlock = z.looseObject({
  type: z.literal('image'),
  source: z.looseObject({ type: z.enum(['base64', 'url']), media_type: z.string().optional(), data: z.string().optional(), url: z.string().optional() }),
});
const content = z.union([z.string(), z.array(z.union([textBlock, imageBlock])).min(1)]);

export const messagesSchema = z.looseObject({
  model: z.string().min(1),
  max_tokens: z.number().int().min(1),
  messages: z.array(z.looseObject({ role: z.enum(['user', 'assistant']), content })).min(1),
  system: z.union([z.string(), z.array(textBlock)]).optional(),
  stop_sequences: z.array(z.string()).max(16).optional(),
  stream: z.boolean().optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().gt(0).max(1).optional(),
  top_k: z.number().int().min(1).optional(),
  metadata: z.looseObject({ user_id: z.string().optional() }).optional(),
});

export type MessagesBody = z.infer<typeof messagesSchema>;
