import { Body, Controller, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DroverError } from '@drover/runtime';
import { HttpProxyService } from '../inference/http-proxy.service';
import { InferenceService } from '../inference/inference.service';
import { ModelCatalogService } from '../inference/model-catalog.service';
import { TokenizerService } from '../tokenizer/tokenizer.service';
import { detokenizeSchema, tokenizeSchema } from './openai-schemas';
import { parseBody } from './validation';
import { requestScope } from './request-context';

/**
 * vLLM-compatible tokenize/detokenize with the gateway's own tokenizer and chat template. Both are
 * work on the gateway's cores: admitted like every request (a key over its limits is refused, a
 * call waits for a concurrency slot) but charged nothing, as count_tokens.
 */
@Controller('v1')
export class TokenizeController {
  constructor(
    @Inject(TokenizerService) private readonly tokenizers: TokenizerService,
    @Inject(ModelCatalogService) private readonly models: ModelCatalogService,
    @Inject(HttpProxyService) private readonly proxy: HttpProxyService,
    @Inject(InferenceService) private readonly inference: InferenceService,
  ) {}

  @Post('tokenize')
  @HttpCode(200)
  async tokenize(@Body() raw: unknown, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<Record<string, unknown>> {
    const body = parseBody(tokenizeSchema, raw);
    // The gateway's tokenizer is not the HTTP upstream's: counts for its models would be wrong.
    this.proxy.requireGrpc(body.model, '/v1/tokenize');
    const maxModelLen = body.model ? this.models.resolve(body.model).maxContextLength : null;
    const ticket = await this.inference.admitEarly(requestScope(req, reply), reply);
    try {
      return await this.tokenized(body, maxModelLen);
    } finally {
      ticket.done();
    }
  }

  private async tokenized(body: ReturnType<typeof tokenizeSchema.parse>, maxModelLen: number | null): Promise<Record<string, unknown>> {
    const tokenizer = body.model ? await this.tokenizers.forModel(body.model) : this.tokenizers.tokenizer;
    let ids: number[];
    if (body.messages) {
      const messages = body.messages.map((m) => ({ ...m, content: typeof m.content === 'string' ? m.content : (m.content ?? null) === null ? null : (m.content as { text?: string }[]).map((p) => p.text ?? '').join('') }));
      ids = (await tokenizer.encodeChat(messages as never, { addGenerationPrompt: body.add_generation_prompt ?? true })).ids;
    } else if (typeof body.prompt === 'string') {
      ids = await tokenizer.encode(body.prompt, { addSpecialTokens: body.add_special_tokens ?? false });
    } else {
      throw DroverError.invalidRequest("Provide either 'prompt' or 'messages'.", 'prompt');
    }
    return { tokens: ids, count: ids.length, max_model_len: maxModelLen };
  }

  @Post('detokenize')
  @HttpCode(200)
  async detokenize(@Body() raw: unknown, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<Record<string, unknown>> {
    const body = parseBody(detokenizeSchema, raw);
    this.proxy.requireGrpc(body.model, '/v1/detokenize');
    if (body.model) this.models.resolve(body.model);
    const ticket = await this.inference.admitEarly(requestScope(req, reply), reply);
    try {
      return await this.detokenized(body);
    } finally {
      ticket.done();
    }
  }

  private async detokenized(body: ReturnType<typeof detokenizeSchema.parse>): Promise<Record<string, unknown>> {
    const tokenizer = body.model ? await this.tokenizers.forModel(body.model) : this.tokenizers.tokenizer;
    const bad = body.tokens.findIndex((t) => t >= tokenizer.vocabSize);
    if (bad >= 0) throw DroverError.invalidRequest(`token id ${body.tokens[bad]} is outside the vocabulary`, `tokens[${bad}]`);
    return { prompt: tokenizer.decode(body.tokens, { skipSpecialTokens: false }) };
  }
}
