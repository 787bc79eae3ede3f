import { Body, Controller, HttpCode, Delete, Get, Inject, Param, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomBytes } from 'node:crypto';
import { DroverError, type Clock } from '@drover/runtime';
import { openAiErrorBody } from '../errors/error-body';
import { toDroverError } from '../errors/to-drover-error';
import { HttpProxyService } from '../inference/http-proxy.service';
import { InferenceService } from '../inference/inference.service';
import type { FinishReason, InferenceRequest, TokenLogprob, Usage } from '../inference/inference-types';
import { CLOCK } from '../runtime/tokens';
import type { StoredResponse } from '../storage/response-store';
import { ResponseStoreService } from '../storage/response-store.service';
import { TokenizerService } from '../tokenizer/tokenizer.service';
import { principalOf } from '../auth/principal';
import { chatLogprobContent } from './logprobs-format';
import { requestScope } from './request-context';
import { responseFormatConstraint, singleConstraint } from './structured-output';
import { responsesSchema, type ResponsesBody } from './responses-schemas';
import { SseWriter } from './sse';
import { parseBody } from './validation';

type Turn = StoredResponse['conversation'][number];

/**
 * OpenAI Responses API (text in, text out) over the same inference path. Stored responses
 * (store: true, the default) can be continued with `previous_response_id` from any node that
 * shares the store (Redis). Response ids are random (never derived from anything the client
 * sends) and a stored response belongs to the API key that made it: any other key is told it
 * does not exist.
 */
@Controller('v1/responses')
export class ResponsesController {
  constructor(
    @Inject(InferenceService) private readonly inference: InferenceService,
    @Inject(TokenizerService) private readonly tokenizers: TokenizerService,
    @Inject(ResponseStoreService) private readonly responses: ResponseStoreService,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(HttpProxyService) private readonly proxy: HttpProxyService,
  ) {}

  @Get(':id')
  async get(@Param('id') id: string, @Req() req: FastifyRequest): Promise<Record<string, unknown>> {
    const found = await this.owned(id, req);
    if (!found) throw DroverError.notFound(`No response found with id '${id}'.`, 'response_id');
    return found.body;
  }

  @Delete(':id')
  async remove(@Param('id') id: string, @Req() req: FastifyRequest): Promise<Record<string, unknown>> {
    if (!(await this.owned(id, req)) || !(await this.responses.store.delete(id))) throw DroverError.notFound(`No response found with id '${id}'.`, 'response_id');
    return { id, object: 'response', deleted: true };
  }

  /** A stored response, if it exists and belongs to the key this request authenticated with. */
  private async owned(id: string, req: FastifyRequest): Promise<StoredResponse | undefined> {
    const found = await this.responses.store.get(id);
    return found && found.owner === ownerOf(req) ? found : undefined;
  }

  @Post()
  @HttpCode(200)
  async create(@Body() raw: unknown, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const body = parseBody(responsesSchema, raw);
    this.proxy.requireGrpc(body.model, 'The Responses API');
    this.inference.requireModel(body.model);
    const scope = requestScope(req, reply);
    const id = `resp_${randomBytes(16).toString('hex')}`;
    const itemId = `msg_${id.slice(5)}`;
    const createdAt = Math.floor(this.clock.now() / 1000);
    // Responses' text.format carries the schema directly ({type, name, schema, strict}).
    const constraint = singleConstraint([responseFormatConstraint(body.text?.format, 'text.format')]);
    const topN = body.top_logprobs ?? undefined;
    const conversation = await this.conversationFor(body, req);
    const tokenizer = await this.tokenizers.forModel(body.model);
    const encoded = await tokenizer.encodeChat(conversation, { addGenerationPrompt: true });
    const request: InferenceRequest = {
      ...scope,
      model: body.model,
      tokenizer,
      promptIds: encoded.ids,
      promptText: encoded.text,
      maxTokens: body.max_output_tokens ?? undefined,
      sampling: { temperature: body.temperature ?? undefined, topP: body.top_p ?? undefined, ...constraint },
      logprobs: topN === undefined ? undefined : { topN },
      stop: [],
      skipSpecialTokens: true,
      user: body.user,
      buffered: !body.stream,
    };
    const events = this.inference.generate(request);
    let lps: TokenLogprob[] = [];
    const lpOf = (entries: TokenLogprob[] | undefined) => (topN === undefined ? [] : chatLogprobContent(tokenizer, entries ?? [], topN));
    const build = (status: string, text: string, reason: FinishReason | null, usage: Usage | null) =>
      responseObject(id, itemId, createdAt, body, status, text, reason, usage, lpOf(lps));
    const finish = async (text: string, reason: FinishReason, usage: Usage) => {
      const final = build(reason === 'length' ? 'incomplete' : 'completed', text, reason, usage);
      if (body.store !== false) {
        await this.responses.store.put({ id, owner: ownerOf(req), model: body.model, createdAt, conversation: [...conversation, { role: 'assistant', content: text }], body: final });
      }
      return final;
    };

    if (!body.stream) {
      let text = '';
      for await (const e of events) {
        if (e.type === 'text') {
          text += e.text;
          if (e.logprobs) lps.push(...e.logprobs);
        } else if (e.type === 'reset') {
          text = '';
          lps = [];
        } else reply.send(await finish(text, e.finishReason, e.usage));
      }
      return;
    }

    const head = await events.next();
    const sse = new SseWriter(reply);
    let seq = 0;
    const emit = (type: string, payload: Record<string, unknown>) => sse.event(type, { type, sequence_number: seq++, ...payload });
    const where = { item_id: itemId, output_index: 0, content_index: 0 };
    emit('response.created', { response: build('in_progress', '', null, null) });
    emit('response.in_progress', { response: build('in_progress', '', null, null) });
    emit('response.output_item.added', { output_index: 0, item: { id: itemId, type: 'message', status: 'in_progress', role: 'assistant', content: [] } });
    emit('response.content_part.added', { ...where, part: { type: 'output_text', text: '', annotations: [] } });
    let text = '';
    try {
      const all = async function* () {
        if (!head.done) yield head.value;
        yield* events;
      };
      for await (const e of all()) {
        if (sse.isClosed) break;
        if (e.type === 'text') {
          text += e.text;
          if (e.logprobs) lps.push(...e.logprobs);
          emit('response.output_text.delta', { ...where, delta: e.text, logprobs: lpOf(e.logprobs) });
        } else if (e.type === 'end') {
          const final = await finish(text, e.finishReason, e.usage);
          emit('response.output_text.done', { ...where, text, logprobs: lpOf(lps) });
          emit('response.content_part.done', { ...where, part: { type: 'output_text', text, annotations: [], logprobs: lpOf(lps) } });
          emit('response.output_item.done', { output_index: 0, item: (final.output as unknown[])[0] });
          emit(final.status === 'completed' ? 'response.completed' : 'response.incomplete', { response: final });
        }
      }
    } catch (err) {
      emit('error', { ...openAiErrorBody(toDroverError(err)).error });
    } finally {
      sse.end();
    }
  }

  private async conversationFor(body: ResponsesBody, req: FastifyRequest): Promise<Turn[]> {
    let history: Turn[] = [];
    if (body.previous_response_id) {
      const previous = await this.owned(body.previous_response_id, req);
      if (!previous) throw DroverError.notFound(`Previous response with id '${body.previous_response_id}' not found.`, 'previous_response_id');
      history = previous.conversation.filter((t) => t.role !== 'system');
    }
    const turns: Turn[] = [];
    if (body.instructions) turns.push({ role: 'system', content: body.instructions });
    turns.push(...history);
    if (typeof body.input === 'string') turns.push({ role: 'user', content: body.input });
    else {
      for (const m of body.input) {
        const content = typeof m.content === 'string' ? m.content : m.content.map((p) => p.text).join('');
        turns.push({ role: m.role === 'developer' ? 'system' : m.role, content });
      }
    }
    return turns;
  }
}

function responseObject(id: string, itemId: string, createdAt: number, body: ResponsesBody, status: string, text: string, reason: FinishReason | null, usage: Usage | null, logprobs: unknown[] = []): Record<string, unknown> {
  const done = status !== 'in_progress';
  return {
    id,
    object: 'response',
    created_at: createdAt,
    status,
    error: null,
    incomplete_details: reason === 'length' ? { reason: 'max_output_tokens' } : null,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    model: body.model,
    output: done ? [{ id: itemId, type: 'message', status: status === 'completed' ? 'completed' : 'incomplete', role: 'assistant', content: [{ type: 'output_text', text, annotations: [], logprobs }] }] : [],
    parallel_tool_calls: false,
    previous_response_id: body.previous_response_id ?? null,
    store: body.store !== false,
    temperature: body.temperature ?? 1,
    top_p: body.top_p ?? 1,
    tool_choice: 'auto',
    tools: [],
    text: { format: body.text?.format ?? { type: 'text' } },
    top_logprobs: body.top_logprobs ?? null,
    metadata: body.metadata ?? {},
    usage: usage
      ? {
          input_tokens: usage.promptTokens,
          input_tokens_details: { cached_tokens: usage.cachedTokens },
          output_tokens: usage.completionTokens,
          output_tokens_details: { reasoning_tokens: 0 },
          total_tokens: usage.promptTokens + usage.completionTokens,
        }
      : null,
  };
}

/** The key id a stored response belongs to (`anonymous` with --no-auth). */
function ownerOf(req: FastifyRequest): string {
  return principalOf(req.headers)?.id ?? 'anonymous';
}
