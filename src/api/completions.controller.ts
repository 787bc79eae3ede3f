import { Body, Controller, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DroverError, type Clock } from '@drover/runtime';
import { canonicalPromptText } from '../inference/canonical-text';
import { HttpProxyService } from '../inference/http-proxy.service';
import { InferenceService } from '../inference/inference.service';
import type { FinishReason, InferenceRequest, TokenLogprob, Usage } from '../inference/inference-types';
import { CLOCK } from '../runtime/tokens';
import type { Tokenizer } from '@drover/tokenizer';
import { TokenizerService } from '../tokenizer/tokenizer.service';
import { textChunk, textCompletion, usageBody } from './openai-format';
import { completionSchema, type CompletionBody } from './openai-schemas';
import { requestScope } from './request-context';
import { completionLogprobs } from './logprobs-format';
import { samplingFrom, stopStrings } from './sampling';
import { extensionConstraints, responseFormatConstraint, singleConstraint } from './structured-output';
import { SseWriter } from './sse';
import { firstEvent, streamCompletion } from './stream-runner';
import { parseBody } from './validation';

const MAX_PROMPTS = 64;

@Controller('v1')
export class CompletionsController {
  constructor(
    @Inject(InferenceService) private readonly inference: InferenceService,
    @Inject(TokenizerService) private readonly tokenizers: TokenizerService,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(HttpProxyService) private readonly proxy: HttpProxyService,
  ) {}

  @Post('completions')
  @HttpCode(200)
  async create(@Body() raw: unknown, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const body = parseBody(completionSchema, raw);
    // Models on OpenAI-compatible HTTP upstreams: the client's body is forwarded (echo, suffix and all).
    if (this.proxy.serves(body.model)) {
      return this.proxy.forward({ api: 'completions', body: raw as Record<string, unknown>, routeText: canonicalPromptText(body.prompt), user: body.user }, req, reply);
    }
    this.inference.requireModel(body.model);
    if (body.echo) throw new DroverError('unsupported', "'echo' is not supported.", { param: 'echo' });
    if (body.suffix) throw new DroverError('unsupported', "'suffix' is not supported.", { param: 'suffix' });
    const constraint = singleConstraint([responseFormatConstraint(body.response_format as Record<string, unknown> | undefined), ...extensionConstraints(body)]);
    const topN = body.logprobs ?? undefined;
    const scope = requestScope(req, reply);
    // Admitted (limits, a concurrency slot) before anything is tokenized.
    const admission = await this.inference.admitEarly(scope, reply);
    const tokenizer = await this.tokenizers.forModel(body.model);
    const prompts = await this.promptsOf(body, tokenizer);
    // Several prompts are several generations, each admitted on its own: the slot that covered
    // tokenizing is handed back first (held, it would wait on itself under a cap of one).
    if (prompts.length > 1) admission.done();
    const requestId = scope.requestId;
    const id = `cmpl-${requestId.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 48)}`;
    const created = Math.floor(this.clock.now() / 1000);
    const base = {
      ...scope,
      model: body.model,
      tokenizer,
      maxTokens: body.max_tokens ?? 16,
      sampling: { ...samplingFrom(body), ...constraint },
      logprobs: topN === undefined ? undefined : { topN },
      stop: stopStrings(body.stop),
      skipSpecialTokens: body.skip_special_tokens ?? true,
      user: body.user,
      buffered: !body.stream,
    };
    const requests: InferenceRequest[] = prompts.map((p, i) => ({
      ...base,
      requestId: prompts.length === 1 ? requestId : `${requestId}-${i}`,
      admission: prompts.length === 1 ? admission : undefined,
      promptIds: p.ids,
      promptText: p.text,
    }));
    for (const r of requests) this.inference.checkBudget(r.model, r.promptIds.length, r.maxTokens);

    if (!body.stream) {
      const results = (await Promise.all(requests.map((r) => this.collect(r)))).map((r) => ({
        ...r,
        logprobs: topN === undefined ? undefined : completionLogprobs(tokenizer, r.logprobs, topN, 0),
      }));
      const usage: Usage = { promptTokens: 0, completionTokens: 0, cachedTokens: 0 };
      for (const r of results) {
        usage.promptTokens += r.usage.promptTokens;
        usage.completionTokens += r.usage.completionTokens;
        usage.cachedTokens += r.usage.cachedTokens;
      }
      reply.send(textCompletion(id, created, body.model, results, usage));
      return;
    }

    // Several prompts stream one after another, each chunk tagged with its choice index.
    const includeUsage = body.stream_options?.include_usage === true;
    const total: Usage = { promptTokens: 0, completionTokens: 0, cachedTokens: 0 };
    let index = 0;
    const events = this.inference.generate(requests[0]);
    const head = await firstEvent(events);
    const sse = new SseWriter(reply);
    let offset = 0;
    for (let i = 0; i < requests.length; i++) {
      index = i;
      offset = 0;
      const ev = i === 0 ? events : this.inference.generate(requests[i]);
      const h = i === 0 ? head : await firstEvent(ev);
      const last = i === requests.length - 1;
      await streamCompletion(h, ev, sse, {
        text: (t, e) => {
          const lp = topN === undefined ? null : completionLogprobs(tokenizer, e.logprobs ?? [], topN, offset);
          offset += t.length;
          return textChunk(id, created, body.model, index, t, null, lp);
        },
        end: (e) => {
          total.promptTokens += e.usage.promptTokens;
          total.completionTokens += e.usage.completionTokens;
          total.cachedTokens += e.usage.cachedTokens;
          return textChunk(id, created, body.model, index, '', e.finishReason);
        },
        usage: last && includeUsage ? () => ({ id, object: 'text_completion', created, model: body.model, choices: [], usage: usageBody(total) }) : undefined,
      }, last);
    }
  }

  private async collect(r: InferenceRequest): Promise<{ text: string; reason: FinishReason; usage: Usage; logprobs: TokenLogprob[] }> {
    let text = '';
    let logprobs: TokenLogprob[] = [];
    for await (const e of this.inference.generate(r)) {
      if (e.type === 'text') {
        text += e.text;
        if (e.logprobs) logprobs.push(...e.logprobs);
      } else if (e.type === 'reset') {
        text = '';
        logprobs = [];
      } else return { text, reason: e.finishReason, usage: e.usage, logprobs };
    }
    throw new DroverError('internal', 'the request ended without a result');
  }

  private async promptsOf(body: CompletionBody, tokenizer: Tokenizer): Promise<{ ids: number[]; text: string }[]> {
    const p = body.prompt;
    if (typeof p === 'string') return [{ ids: await tokenizer.encode(p), text: p }];
    // A flat list of numbers is one prompt of token ids, however long: the prompt cap counts prompts.
    if (typeof p[0] === 'number') return [{ ids: p as number[], text: '' }];
    if (p.length > MAX_PROMPTS) throw DroverError.invalidRequest(`At most ${MAX_PROMPTS} prompts per request.`, 'prompt');
    if (typeof p[0] === 'string') return Promise.all((p as string[]).map(async (t) => ({ ids: await tokenizer.encode(t), text: t })));
    return (p as number[][]).map((ids) => ({ ids, text: '' }));
  }
}
