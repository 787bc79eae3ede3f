import { Body, Controller, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HttpProxyService } from '../inference/http-proxy.service';
import { InferenceService } from '../inference/inference.service';
import { VisionService } from '../multimodal/vision.service';
import { TokenizerService } from '../tokenizer/tokenizer.service';
import { renderAnthropicPrompt } from './anthropic-prompt';
import { messagesSchema } from './anthropic-schemas';
import { requestScope } from './request-context';
import { parseBody } from './validation';

/** count_tokens takes what shapes the prompt: a Messages body without max_tokens and sampling. */
const countTokensSchema = messagesSchema.pick({ model: true, messages: true, system: true, tools: true, tool_choice: true, thinking: true });

/**
 * Anthropic's `POST /v1/messages/count_tokens`: the request rendered with the model's chat
 * template and tokenizer exactly as /v1/messages renders it (tools, thinking and images included),
 * so the count is the input_tokens that request would report. Errors in Anthropic's shape (the
 * filter answers every /v1/messages route that way).
 */
@Controller('v1/messages')
export class CountTokensController {
  constructor(
    @Inject(InferenceService) private readonly inference: InferenceService,
    @Inject(TokenizerService) private readonly tokenizers: TokenizerService,
    @Inject(HttpProxyService) private readonly proxy: HttpProxyService,
    @Inject(VisionService) private readonly vision: VisionService,
  ) {}

  @Post('count_tokens')
  @HttpCode(200)
  async count(@Body() raw: unknown, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<{ input_tokens: number }> {
    const body = parseBody(countTokensSchema, raw);
    // The gateway's tokenizer is not an HTTP upstream's: its count for those models would be a guess.
    this.proxy.requireGrpc(body.model, '/v1/messages/count_tokens');
    this.inference.requireModel(body.model);
    // Rendering, tokenizing and image downloads are work: a key over its limits is refused and the
    // count waits for a concurrency slot like any request. Nothing is charged (the ticket is never
    // settled): counting is free, as on Anthropic's API.
    const ticket = await this.inference.admitEarly(requestScope(req, reply), reply);
    try {
      const prompt = await renderAnthropicPrompt(body, this.tokenizers, this.vision);
      return { input_tokens: prompt.promptIds.length };
    } finally {
      ticket.done();
    }
  }
}
