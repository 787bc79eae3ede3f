import { Body, Controller, HttpCode, Inject, Post } from '@nestjs/common';
import { DroverError } from '@drover/runtime';
import { HttpProxyService } from '../inference/http-proxy.service';
import { ModelCatalogService } from '../inference/model-catalog.service';
import { TokenizerService } from '../tokenizer/tokenizer.service';
import { detokenizeSchema, tokenizeSchema } from './openai-schemas';
import { parseBody } from './validation';

/** vLLM-compatible tokenize/detokenize with the gateway's own tokenizer and chat template. */
@Controller('v1')
export class TokenizeController {
  constructor(
    @Inject(TokenizerService) private readonly tokenizers: TokenizerService,
    @Inject(ModelCatalogService) private readonly models: ModelCatalogService,
    @Inject(HttpProxyService) private readonly proxy: HttpProxyService,
  ) {}

  @Post('tokenize')
  @HttpCode(200)
  async tokenize(@Body() raw: unknown): Promise<Record<string, unknown>> {
    const body = parseBody(tokenizeSchema, raw);
    // The gateway's tokenizer is not the HTTP upstream's: counts for its models would be wrong.
    this.proxy.requireGrpc(body.model, '/v1/tokenize');
    const maxModelLen = body.model ? this.models.resolve(body.model).maxContextLength : null;
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
  async detokenize(@Body() raw: unknown): Promise<Record<string, unknown>> {
    const body = parseBody(detokenizeSchema, raw);
    this.proxy.requireGrpc(body.model, '/v1/detokenize');
    if (body.model) this.models.resolve(body.model);
    const tokenizer = body.model ? await this.tokenizers.forModel(body.model) : this.tokenizers.tokenizer;
    const bad = body.tokens.findIndex((t) => t >= tokenizer.vocabSize);
    if (bad >= 0) throw DroverError.invalidRequest(`token id ${body.tokens[bad]} is outside the vocabulary`, `tokens[${bad}]`);
    return { prompt: tokenizer.decode(body.tokens, { skipSpecialTokens: false }) };
  }
}
