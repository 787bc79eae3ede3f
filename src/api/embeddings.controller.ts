import { Body, Controller, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { DroverError } from '@drover/runtime';
import { canonicalPromptText } from '../inference/canonical-text';
import { HttpProxyService } from '../inference/http-proxy.service';
import { InferenceService } from '../inference/inference.service';
import { TokenizerService } from '../tokenizer/tokenizer.service';
import { clientGoneSignal, requestIdOf } from './request-context';
import { parseBody } from './validation';
import { REQUEST_LIMITS } from './request-limits';

const MAX_INPUTS = 256;
const embeddingsSchema = z.looseObject({
  model: z.string().min(1),
  input: z.union([z.string(), z.array(z.string()).min(1).max(MAX_INPUTS), z.array(z.number().int().min(0)).min(1), z.array(z.array(z.number().int().min(0)).min(1)).min(1).max(MAX_INPUTS)]),
  encoding_format: z.enum(['float', 'base64']).optional(),
  dimensions: z.number().int().min(1).optional(),
  user: z.string().max(REQUEST_LIMITS.userChars).optional(),
});

/** OpenAI Embeddings over the worker's Embed RPC. */
@Controller('v1')
export class EmbeddingsController {
  constructor(
    @Inject(InferenceService) private readonly inference: InferenceService,
    @Inject(TokenizerService) private readonly tokenizers: TokenizerService,
    @Inject(HttpProxyService) private readonly proxy: HttpProxyService,
  ) {}

  @Post('embeddings')
  @HttpCode(200)
  async create(@Body() raw: unknown, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const body = parseBody(embeddingsSchema, raw);
    if (this.proxy.serves(body.model)) {
      return this.proxy.forward({ api: 'embeddings', body: raw as Record<string, unknown>, routeText: canonicalPromptText(body.input), user: body.user }, req, reply);
    }
    this.inference.requireModel(body.model, 'embed');
    if (body.dimensions !== undefined) throw new DroverError('unsupported', "'dimensions' is not supported.", { param: 'dimensions' });
    const input = body.input;
    // Admitted like generation (limits, a concurrency slot) before anything is tokenized.
    const admission = await this.inference.admitEarly({ headers: req.headers, signal: clientGoneSignal(req, reply).signal }, reply);
    const tokenizer = await this.tokenizers.forModel(body.model);
    let batches: number[][];
    if (typeof input === 'string') batches = [await tokenizer.encode(input)];
    else if (typeof input[0] === 'number') batches = [input as number[]];
    else if (typeof input[0] === 'string') batches = await Promise.all((input as string[]).map((t) => tokenizer.encode(t)));
    else batches = input as number[][];
    admission.settle(batches.reduce((n, ids) => n + ids.length, 0));
    const requestId = requestIdOf(req);
    const results = await Promise.all(batches.map((ids, i) => this.inference.embed(body.model, ids, `${requestId}-${i}`, req.headers)));
    const data = results.map((r, index) => ({
      object: 'embedding',
      index,
      embedding: body.encoding_format === 'base64' ? Buffer.from(new Float32Array(r.embedding).buffer).toString('base64') : r.embedding,
    }));
    const promptTokens = results.reduce((a, r) => a + r.promptTokens, 0);
    reply.send({ object: 'list', data, model: body.model, usage: { prompt_tokens: promptTokens, total_tokens: promptTokens } });
  }
}
