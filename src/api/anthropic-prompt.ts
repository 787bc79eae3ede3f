import { DroverError } from '@drover/runtime';
import type { Tokenizer } from '@drover/tokenizer';
import type { MultimodalInput } from '@drover/worker-proto';
import { IMAGE_PLACEHOLDER_TEXT, type VisionService } from '../multimodal/vision.service';
import type { TokenizerService } from '../tokenizer/tokenizer.service';
import { anthropicToChat, anthropicToolChoice, anthropicTools } from './anthropic-chat';
import type { MessagesBody } from './anthropic-schemas';
import { planOutput, templateArguments, type OutputPlan } from './chat-tools';

/** The parts of a Messages body that shape the prompt (all that count_tokens takes). */
export type AnthropicPromptBody = Pick<MessagesBody, 'model' | 'system' | 'messages' | 'tools' | 'tool_choice' | 'thinking'>;

export interface AnthropicPrompt {
  plan: OutputPlan;
  tokenizer: Tokenizer;
  /** The rendered template's text (what the output parsers and routing read). */
  text: string;
  /** The ids sent to the engine: images expanded to their patch tokens. */
  promptIds: number[];
  routeIds?: number[];
  multimodal?: MultimodalInput;
}

/**
 * A Messages request rendered with the model's chat template and tokenized, images included: one
 * function for both /v1/messages and /v1/messages/count_tokens, so a count is exactly the
 * input_tokens the same request reports.
 */
export async function renderAnthropicPrompt(body: AnthropicPromptBody, tokenizers: TokenizerService, vision: VisionService): Promise<AnthropicPrompt> {
  // thinking {type: disabled} turns reasoning off (the Qwen3 / DeepSeek V3.1 template switches); absent: the model's default.
  const kwargs = body.thinking ? { enable_thinking: body.thinking.type === 'enabled', thinking: body.thinking.type === 'enabled' } : undefined;
  const plan = planOutput(body.model, anthropicTools(body), anthropicToolChoice(body), kwargs);
  const { messages, images } = anthropicToChat(body, (param) => vision.requireVision(body.model, param));
  const pending = vision.begin(images);
  const tokenizer = await tokenizers.forModel(body.model);
  const encoded = await tokenizer
    .encodeChat(templateArguments(tokenizer, messages), { tools: plan.tools, addGenerationPrompt: true, extra: kwargs, trusted: images.length > 0 ? [IMAGE_PLACEHOLDER_TEXT] : undefined })
    .catch((err: Error) => {
      throw new DroverError('invalid_request', `Could not render the chat template: ${err.message}`, { param: 'messages' });
    });
  const prompt = await pending.apply(encoded.ids);
  return { plan, tokenizer, text: encoded.text, ...prompt };
}
