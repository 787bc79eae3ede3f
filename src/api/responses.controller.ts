import { Body, Controller, HttpCode, Delete, Get, Inject, Param, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomBytes } from 'node:crypto';
import { DroverError, type Clock, type Rng } from '@drover/runtime';
import { openAiErrorBody } from '../errors/error-body';
import { toDroverError } from '../errors/to-drover-error';
import { HttpProxyService } from '../inference/http-proxy.service';
import { InferenceService } from '../inference/inference.service';
import type { FinishReason, InferenceRequest, TokenLogprob, Usage } from '../inference/inference-types';
import { CLOCK, RNG } from '../runtime/tokens';
import type { StoredResponse } from '../storage/response-store';
import { ResponseStoreService } from '../storage/response-store.service';
import { TokenizerService } from '../tokenizer/tokenizer.service';
import { principalOf } from '../auth/principal';
import { chatLogprobContent } from './logprobs-format';
import { requestScope } from './request-context';
import { responseFormatConstraint, singleConstraint } from './structured-output';
import { responsesSchema, type ResponsesBody } from './responses-schemas';
import { inputToChat, responsesToolChoice, responsesTools } from './responses-input';
import { OutputItems } from './responses-output';
import { outputParser, planOutput, templateArguments } from './chat-tools';
import { OutputBlocks, PLAIN_TEXT, type Block } from './output-blocks';
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
    @Inject(RNG) rng: Rng,
  ) {
    this.rng = rng.fork('responses-call-ids');
  }

  private readonly rng: Rng;

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
    const plan = planOutput(body.model, responsesTools(body), responsesToolChoice(body), undefined);
    const scope = requestScope(req, reply);
    const id = `resp_${randomBytes(16).toString('hex')}`;
    const createdAt = Math.floor(this.clock.now() / 1000);
    // Responses' text.format carries the schema directly ({type, name, schema, strict}).
    const constraint = singleConstraint([responseFormatConstraint(body.text?.format, 'text.format'), plan.constraint]);
    const topN = body.top_logprobs ?? undefined;
    // Admitted (limits, a concurrency slot) before the stored conversation is read or anything tokenized.
    const admission = await this.inference.admitEarly(scope, reply);
    const conversation = await this.conversationFor(body, req);
    const tokenizer = await this.tokenizers.forModel(body.model);
    const encoded = await tokenizer.encodeChat(templateArguments(tokenizer, conversation), { tools: plan.tools, addGenerationPrompt: true }).catch((err: Error) => {
      throw new DroverError('invalid_request', `Could not render the chat template: ${err.message}`, { param: 'input' });
    });
    const request: InferenceRequest = {
      ...scope,
      admission,
      model: body.model,
      tokenizer,
      promptIds: encoded.ids,
      promptText: encoded.text,
      maxTokens: body.max_output_tokens ?? undefined,
      sampling: { temperature: body.temperature ?? undefined, topP: body.top_p ?? undefined, ...constraint },
      logprobs: topN === undefined ? undefined : { topN },
      stop: [],
      // Parsers read markers some models emit as special tokens (harmony, DeepSeek, Mistral).
      skipSpecialTokens: !plan.active,
      user: body.user,
      buffered: !body.stream,
    };
    const parser = outputParser(plan, encoded.text, this.rng) ?? PLAIN_TEXT;
    const events = this.inference.generate(request);
    let lps: TokenLogprob[] = [];
    const lpOf = (entries: TokenLogprob[] | undefined) => (topN === undefined ? [] : chatLogprobContent(tokenizer, entries ?? [], topN));
    const items = new OutputItems(id.slice(5));
    const build = (status: string, blocks: Block[], reason: FinishReason | null, usage: Usage | null) =>
      responseObject(id, createdAt, body, status, status === 'in_progress' ? [] : items.output(blocks, status, lpOf(lps)), reason, usage);
    const finish = async (blocks: Block[], reason: FinishReason, usage: Usage) => {
      const final = build(reason === 'length' ? 'incomplete' : 'completed', blocks, reason, usage);
      if (body.store !== false) {
        await this.responses.store.put({ id, owner: ownerOf(req), model: body.model, createdAt, conversation: [...conversation, assistantTurn(blocks)], body: final });
      }
      return final;
    };

    if (!body.stream) {
      let blocks = new OutputBlocks();
      for await (const e of events) {
        if (e.type === 'text') {
          blocks.push(parser.push(e.text));
          if (e.logprobs) lps.push(...e.logprobs);
        } else if (e.type === 'reset') {
          blocks = new OutputBlocks();
          lps = [];
        } else {
          blocks.push(parser.flush());
          reply.send(await finish(blocks.blocks, e.finishReason, e.usage));
        }
      }
      return;
    }

    const head = await events.next();
    const sse = new SseWriter(reply);
    let seq = 0;
    const emit = (type: string, payload: Record<string, unknown>) => sse.event(type, { type, sequence_number: seq++, ...payload });
    /** The logprobs of the engine event being parsed (sent with the text deltas it produced). */
    let eventLps: TokenLogprob[] | undefined;
    const blocks = new OutputBlocks({
      open: (b, index) => {
        emit('response.output_item.added', { output_index: index, item: items.item(b, index, 'in_progress', [], true) });
        if (b.kind === 'text') emit('response.content_part.added', { item_id: items.id(b, index), output_index: index, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } });
      },
      delta: (b, index, fragment) => {
        const where = { item_id: items.id(b, index), output_index: index };
        if (b.kind === 'text') emit('response.output_text.delta', { ...where, content_index: 0, delta: fragment, logprobs: lpOf(eventLps) });
        else if (b.kind === 'reasoning') emit('response.reasoning_text.delta', { ...where, content_index: 0, delta: fragment });
        else emit('response.function_call_arguments.delta', { ...where, delta: fragment });
      },
      close: (b, index) => {
        const where = { item_id: items.id(b, index), output_index: index };
        const item = items.item(b, index, 'completed', lpOf(lps));
        if (b.kind === 'text') {
          emit('response.output_text.done', { ...where, content_index: 0, text: b.text, logprobs: lpOf(lps) });
          emit('response.content_part.done', { ...where, content_index: 0, part: (item.content as unknown[])[0] });
        } else if (b.kind === 'reasoning') emit('response.reasoning_text.done', { ...where, content_index: 0, text: b.text });
        else emit('response.function_call_arguments.done', { ...where, name: b.name, arguments: b.arguments });
        emit('response.output_item.done', { output_index: index, item });
      },
    });
    emit('response.created', { response: build('in_progress', [], null, null) });
    emit('response.in_progress', { response: build('in_progress', [], null, null) });
    try {
      const all = async function* () {
        if (!head.done) yield head.value;
        yield* events;
      };
      for await (const e of all()) {
        if (sse.isClosed) break;
        if (e.type === 'text') {
          if (e.logprobs) lps.push(...e.logprobs);
          eventLps = e.logprobs;
          blocks.push(parser.push(e.text));
          if (sse.backlogged) await sse.drained(); // backpressure: a slow reader holds the next pull
        } else if (e.type === 'end') {
          eventLps = undefined;
          blocks.push(parser.flush());
          // An empty answer is still one (empty) message.
          blocks.ensureOne();
          blocks.finish();
          const final = await finish(blocks.blocks, e.finishReason, e.usage);
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
    turns.push(...(inputToChat(body.input) as Turn[]));
    return turns;
  }
}

/** The assistant turn a response adds to the stored conversation (for previous_response_id). */
function assistantTurn(blocks: Block[]): Turn {
  const text = blocks.filter((b) => b.kind === 'text').map((b) => (b as { text: string }).text).join('');
  const reasoning = blocks.filter((b) => b.kind === 'reasoning').map((b) => (b as { text: string }).text).join('');
  const calls = blocks.filter((b) => b.kind === 'call').map((b) => ({ id: b.id, type: 'function', function: { name: b.name, arguments: b.arguments } }));
  return {
    role: 'assistant',
    content: text.length > 0 || calls.length === 0 ? text : null,
    ...(calls.length > 0 ? { tool_calls: calls } : {}),
    ...(reasoning ? { reasoning_content: reasoning } : {}),
  };
}

function responseObject(id: string, createdAt: number, body: ResponsesBody, status: string, output: unknown[], reason: FinishReason | null, usage: Usage | null): Record<string, unknown> {
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
    output,
    parallel_tool_calls: body.parallel_tool_calls ?? true,
    previous_response_id: body.previous_response_id ?? null,
    store: body.store !== false,
    temperature: body.temperature ?? 1,
    top_p: body.top_p ?? 1,
    tool_choice: body.tool_choice ?? 'auto',
    tools: body.tools ?? [],
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
