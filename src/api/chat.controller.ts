import { Body, Controller, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DroverError, type Clock, type Rng } from '@drover/runtime';
import type { ChatMessage } from '@drover/tokenizer';
import { canonicalChatText } from '../inference/canonical-text';
import { HttpProxyService } from '../inference/http-proxy.service';
import { InferenceService } from '../inference/inference.service';
import { IMAGE_PLACEHOLDER_TEXT, VisionService, type ImageRef } from '../multimodal/vision.service';
import type { InferenceEvent, InferenceRequest, TokenLogprob } from '../inference/inference-types';
import { CLOCK, RNG } from '../runtime/tokens';
import { endSpan, startSpan } from '../observability/tracing';
import { TokenizerService } from '../tokenizer/tokenizer.service';
import { chatChunk, chatCompletion, chatCompletionOf, chatContentChunks, usageBody } from './openai-format';
import { chatDelta, outputParser, planOutput, templateArguments } from './chat-tools';
import { chatCompletionSchema, type ChatCompletionBody } from './openai-schemas';
import { requestScope } from './request-context';
import { logprobsRequest, samplingFrom, stopStrings } from './sampling';
import { chatLogprobContent } from './logprobs-format';
import { extensionConstraints, responseFormatConstraint, singleConstraint } from './structured-output';
import { SseWriter } from './sse';
import { parseBody } from './validation';
import { Chunks, firstEvent, streamCompletion } from './stream-runner';
import { collectToolCalls, type OutputParser } from '@drover/parsers';

@Controller('v1/chat')
export class ChatController {
  constructor(
    @Inject(InferenceService) private readonly inference: InferenceService,
    @Inject(TokenizerService) private readonly tokenizers: TokenizerService,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(HttpProxyService) private readonly proxy: HttpProxyService,
    @Inject(VisionService) private readonly vision: VisionService,
    @Inject(RNG) rng: Rng,
  ) {
    this.rng = rng.fork('chat-tool-call-ids');
  }

  private readonly rng: Rng;

  @Post('completions')
  @HttpCode(200)
  async create(@Body() raw: unknown, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const body = parseBody(chatCompletionSchema, raw);
    // Models on OpenAI-compatible HTTP upstreams: the client's body is forwarded, not tokenized.
    if (this.proxy.serves(body.model)) {
      return this.proxy.forward({ api: 'chat', body: raw as Record<string, unknown>, routeText: canonicalChatText(body.messages), user: body.user }, req, reply);
    }
    this.inference.requireModel(body.model);
    const plan = planOutput(body.model, body.tools, body.tool_choice, body.chat_template_kwargs);
    const constraint = singleConstraint([responseFormatConstraint(body.response_format), ...extensionConstraints(body), plan.constraint]);
    const logprobs = logprobsRequest(body);
    const scope = requestScope(req, reply);
    // Admitted (limits, a concurrency slot) before any template, tokenizer or image work.
    const admission = await this.inference.admitEarly(scope, reply);
    const requestId = scope.requestId;
    const id = `chatcmpl-${requestId.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 48)}`;
    const created = Math.floor(this.clock.now() / 1000);
    const traceCtx = scope.trace;
    const { messages, images } = toChatMessages(body, (param) => this.vision.requireVision(body.model, param));
    // Images load and preprocess while the template renders and tokenizes.
    const pending = this.vision.begin(images);
    const tokenizeSpan = startSpan('tokenize', traceCtx, { 'drover.messages': body.messages.length });
    const encodeStart = this.clock.now();
    const tokenizer = await this.tokenizers.forModel(body.model);
    const encoded = await tokenizer
      .encodeChat(templateArguments(tokenizer, messages), {
        tools: body.tools ?? undefined,
        addGenerationPrompt: true,
        extra: body.chat_template_kwargs,
        // The placeholders this controller put in for image parts stay special tokens.
        trusted: images.length > 0 ? [IMAGE_PLACEHOLDER_TEXT] : undefined,
      })
      .catch((err: Error) => {
        endSpan(tokenizeSpan, err);
        throw new DroverError('invalid_request', `Could not render the chat template: ${err.message}`, { param: 'messages' });
      });
    tokenizeSpan.setAttribute('drover.prompt_tokens', encoded.ids.length);
    this.tokenizers.observeEncode((this.clock.now() - encodeStart) / 1000);
    endSpan(tokenizeSpan);
    const prompt = await pending.apply(encoded.ids);
    const request: InferenceRequest = {
      ...scope,
      admission,
      model: body.model,
      tokenizer,
      ...prompt,
      promptText: encoded.text,
      maxTokens: body.max_completion_tokens ?? body.max_tokens ?? undefined,
      sampling: { ...samplingFrom(body), ...constraint },
      stop: stopStrings(body.stop),
      // Parsers read markers some models emit as special tokens (harmony, DeepSeek, Mistral).
      skipSpecialTokens: body.skip_special_tokens ?? !plan.active,
      user: body.user,
      buffered: !body.stream,
      logprobs,
    };
    const parser = outputParser(plan, encoded.text, this.rng);
    const topN = logprobs?.topN ?? 0;
    const lpBody = (entries: TokenLogprob[] | undefined) => (logprobs ? { content: chatLogprobContent(tokenizer, entries ?? [], topN), refusal: null } : null);
    const events = this.inference.generate(request);

    if (parser) return this.parsed(parser, events, body, reply, { id, created, lpBody });

    if (!body.stream) {
      let text = '';
      let lps: TokenLogprob[] = [];
      for await (const e of events) {
        if (e.type === 'text') {
          text += e.text;
          if (e.logprobs) lps.push(...e.logprobs);
        } else if (e.type === 'reset') {
          text = '';
          lps = [];
        } else workerHeaders(reply, e).send(chatCompletion(id, created, body.model, text, e.finishReason, e.usage, lpBody(lps)));
      }
      return;
    }

    const includeUsage = body.stream_options?.include_usage === true;
    const head = await firstEvent(events);
    const contentChunk = chatContentChunks(id, created, body.model);
    await streamCompletion(head, events, new SseWriter(reply), {
      first: () => chatChunk(id, created, body.model, { role: 'assistant', content: '' }, null),
      // Without logprobs every content chunk is pre-serialized (the hot path).
      text: logprobs ? (t, e) => chatChunk(id, created, body.model, { content: t }, null, lpBody(e.logprobs)) : contentChunk,
      end: (e) => chatChunk(id, created, body.model, {}, e.finishReason),
      usage: includeUsage ? (u) => ({ ...chatChunk(id, created, body.model, null, null), choices: [], usage: usageBody(u) }) : undefined,
    });
  }

  /** The output through the model's reasoning / tool-call parser: reasoning_content, tool_calls, finish_reason tool_calls. */
  private async parsed(
    parser: OutputParser,
    events: AsyncGenerator<InferenceEvent>,
    body: ChatCompletionBody,
    reply: FastifyReply,
    ctx: { id: string; created: number; lpBody: (entries: TokenLogprob[] | undefined) => unknown },
  ): Promise<void> {
    const { id, created, lpBody } = ctx;
    if (!body.stream) {
      let text = '';
      let lps: TokenLogprob[] = [];
      for await (const e of events) {
        if (e.type === 'text') {
          text += e.text;
          if (e.logprobs) lps.push(...e.logprobs);
        } else if (e.type === 'reset') {
          text = '';
          lps = [];
        } else {
          const head = parser.push(text);
          const tail = parser.flush();
          const calls = collectToolCalls([...head.calls, ...tail.calls]);
          const content = head.content + tail.content;
          const reasoning = head.reasoning + tail.reasoning;
          const message: Record<string, unknown> = { content: content.length > 0 || calls.length === 0 ? content : null };
          if (reasoning) message.reasoning_content = reasoning;
          if (calls.length > 0) message.tool_calls = calls;
          const reason = tail.finishReason === 'tool_calls' && e.finishReason !== 'length' ? 'tool_calls' : e.finishReason;
          workerHeaders(reply, e).send(chatCompletionOf(id, created, body.model, message, reason, e.usage, lpBody(lps)));
        }
      }
      return;
    }
    const includeUsage = body.stream_options?.include_usage === true;
    const head = await firstEvent(events);
    const contentChunk = chatContentChunks(id, created, body.model);
    await streamCompletion(head, events, new SseWriter(reply), {
      first: () => chatChunk(id, created, body.model, { role: 'assistant', content: '' }, null),
      text: (t, e) => {
        const out = parser.push(t);
        // Plain answer text (the common case) keeps the pre-serialized chunk.
        if (!e.logprobs && out.content && !out.reasoning && out.calls.length === 0) return contentChunk(out.content);
        const delta = chatDelta(out);
        const lp = lpBody(e.logprobs);
        return delta || lp ? chatChunk(id, created, body.model, delta ?? {}, null, lp) : undefined;
      },
      end: (e) => {
        const tail = parser.flush();
        const delta = chatDelta(tail);
        const reason = tail.finishReason === 'tool_calls' && e.finishReason !== 'length' ? 'tool_calls' : e.finishReason;
        const last = chatChunk(id, created, body.model, {}, reason);
        return delta ? new Chunks([chatChunk(id, created, body.model, delta, null), last]) : last;
      },
      usage: includeUsage ? (u) => ({ ...chatChunk(id, created, body.model, null, null), choices: [], usage: usageBody(u) }) : undefined,
    });
  }
}

/**
 * The chat template's messages. Image parts (vision models only) become the vision placeholder in
 * the text, in order, and are returned as references to load.
 */
function toChatMessages(body: ChatCompletionBody, requireVision: (param: string) => void): { messages: ChatMessage[]; images: ImageRef[] } {
  const images: ImageRef[] = [];
  const messages = body.messages.map((m, i) => {
    let content: string | null;
    if (m.content === undefined || m.content === null) content = null;
    else if (typeof m.content === 'string') content = m.content;
    else {
      content = m.content
        .map((p, j) => {
          if (p.type === 'text') return (p as { text: string }).text;
          const param = `messages[${i}].content[${j}].image_url`;
          if (images.length === 0) requireVision(param);
          images.push({ url: imageUrlOf((p as { image_url: unknown }).image_url, param), param });
          return IMAGE_PLACEHOLDER_TEXT;
        })
        .join('');
    }
    return {
      role: m.role,
      content,
      name: m.name,
      tool_calls: m.tool_calls,
      tool_call_id: m.tool_call_id,
      reasoning_content: m.reasoning_content ?? undefined,
    };
  });
  return { messages, images };
}

/** OpenAI's `{ url, detail }` object, or a bare URL string as some clients send. */
function imageUrlOf(v: unknown, param: string): string {
  const url = typeof v === 'string' ? v : typeof v === 'object' && v !== null ? (v as { url?: unknown }).url : undefined;
  if (typeof url !== 'string' || url.length === 0) throw new DroverError('invalid_request', 'image_url needs a url (a data: URL or an http(s) URL).', { param });
  return url;
}

/** Which worker served a buffered answer; for a disaggregated model, the decode worker and its prefill worker. */
function workerHeaders(reply: FastifyReply, e: { workerId: string; prefillWorkerId?: string }): FastifyReply {
  reply.header('x-drover-worker', e.workerId);
  if (e.prefillWorkerId) reply.header('x-drover-prefill-worker', e.prefillWorkerId);
  return reply;
}
