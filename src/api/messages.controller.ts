import { IMAGE_PLACEHOLDER_TEXT, VisionService, type ImageRef } from '../multimodal/vision.service';
import { Body, Controller, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DroverError } from '@drover/runtime';
import type { ChatMessage } from '@drover/tokenizer';
import { anthropicErrorBody } from '../errors/error-body';
import { toDroverError } from '../errors/to-drover-error';
import { HttpProxyService } from '../inference/http-proxy.service';
import { InferenceService } from '../inference/inference.service';
import type { FinishReason, InferenceRequest, Usage } from '../inference/inference-types';
import { TokenizerService } from '../tokenizer/tokenizer.service';
import { messagesSchema, type MessagesBody } from './anthropic-schemas';
import { requestScope } from './request-context';
import { SseWriter } from './sse';
import { parseBody } from './validation';

/** Anthropic Messages API over the same inference path; errors in Anthropic's shape (see the filter). */
@Controller('v1')
export class MessagesController {
  constructor(
    @Inject(InferenceService) private readonly inference: InferenceService,
    @Inject(TokenizerService) private readonly tokenizers: TokenizerService,
    @Inject(HttpProxyService) private readonly proxy: HttpProxyService,
    @Inject(VisionService) private readonly vision: VisionService,
  ) {}

  @Post('messages')
  @HttpCode(200)
  async create(@Body() raw: unknown, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const body = parseBody(messagesSchema, raw);
    this.proxy.requireGrpc(body.model, 'The Anthropic Messages API');
    this.inference.requireModel(body.model);
    const scope = requestScope(req, reply);
    const requestId = scope.requestId;
    const id = `msg_${requestId.replace(/[^A-Za-z0-9]/g, '').slice(0, 40)}`;
    const { messages, images } = toChat(body, (param) => this.vision.requireVision(body.model, param));
    const pending = this.vision.begin(images);
    const tokenizer = await this.tokenizers.forModel(body.model);
    const encoded = await tokenizer.encodeChat(messages, { addGenerationPrompt: true });
    const prompt = await pending.apply(encoded.ids);
    const request: InferenceRequest = {
      ...scope,
      model: body.model,
      tokenizer,
      ...prompt,
      promptText: encoded.text,
      maxTokens: body.max_tokens,
      sampling: { temperature: body.temperature, topP: body.top_p, topK: body.top_k },
      stop: body.stop_sequences ?? [],
      skipSpecialTokens: true,
      user: body.metadata?.user_id,
      buffered: !body.stream,
    };
    const events = this.inference.generate(request);
    if (!body.stream) {
      let text = '';
      for await (const e of events) {
        if (e.type === 'text') text += e.text;
        else if (e.type === 'reset') text = '';
        else reply.send(message(id, body.model, [{ type: 'text', text }], stopReason(e.finishReason, e.matchedStop, body), stopSequence(e.matchedStop, body), e.usage));
      }
      return;
    }
    const head = await events.next();
    const sse = new SseWriter(reply);
    sse.event('message_start', { type: 'message_start', message: message(id, body.model, [], null, null, { promptTokens: 0, completionTokens: 0, cachedTokens: 0 }) });
    sse.event('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
    try {
      const all = async function* () {
        if (!head.done) yield head.value;
        yield* events;
      };
      for await (const e of all()) {
        if (sse.isClosed) break;
        if (e.type === 'text') sse.event('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: e.text } });
        else if (e.type === 'end') {
          sse.event('content_block_stop', { type: 'content_block_stop', index: 0 });
          sse.event('message_delta', {
            type: 'message_delta',
            delta: { stop_reason: stopReason(e.finishReason, e.matchedStop, body), stop_sequence: stopSequence(e.matchedStop, body) },
            usage: { input_tokens: e.usage.promptTokens, output_tokens: e.usage.completionTokens, cache_read_input_tokens: e.usage.cachedTokens },
          });
          sse.event('message_stop', { type: 'message_stop' });
        }
      }
    } catch (err) {
      sse.event('error', anthropicErrorBody(toDroverError(err)));
    } finally {
      sse.end();
    }
  }
}

/** The chat template's messages; image blocks (vision models only) become the vision placeholder. */
function toChat(body: MessagesBody, requireVision: (param: string) => void): { messages: ChatMessage[]; images: ImageRef[] } {
  const images: ImageRef[] = [];
  const text = (c: MessagesBody['system'] | MessagesBody['messages'][number]['content'], where: string): string => {
    if (c === undefined || typeof c === 'string') return c ?? '';
    return c
      .map((b, j) => {
        if (b.type === 'text') return (b as { text: string }).text;
        const param = `${where}.content[${j}].source`;
        if (images.length === 0) requireVision(param);
        const src = (b as { source: { type: string; media_type?: string; data?: string; url?: string } }).source;
        const url = src.type === 'base64' ? `data:${src.media_type ?? 'image/png'};base64,${src.data ?? ''}` : src.url;
        if (!url) throw new DroverError('invalid_request', 'An image source of type url needs a url.', { param });
        images.push({ url, param });
        return IMAGE_PLACEHOLDER_TEXT;
      })
      .join('');
  };
  const out: ChatMessage[] = [];
  if (body.system !== undefined) out.push({ role: 'system', content: text(body.system, 'system') });
  body.messages.forEach((m, i) => out.push({ role: m.role, content: text(m.content, `messages[${i}]`) }));
  if (out[out.length - 1].role === 'assistant') {
    throw new DroverError('unsupported', 'A final assistant message (prefill) is not supported.', { param: 'messages' });
  }
  return { messages: out, images };
}

function stopSequence(matched: string | number | undefined, body: MessagesBody): string | null {
  return typeof matched === 'string' && (body.stop_sequences ?? []).includes(matched) ? matched : null;
}

function stopReason(reason: FinishReason, matched: string | number | undefined, body: MessagesBody): string {
  if (reason === 'length') return 'max_tokens';
  return stopSequence(matched, body) ? 'stop_sequence' : 'end_turn';
}

function message(id: string, model: string, content: unknown[], stop: string | null, seq: string | null, u: Usage): Record<string, unknown> {
  return {
    id,
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: stop,
    stop_sequence: seq,
    usage: { input_tokens: u.promptTokens, output_tokens: u.completionTokens, cache_read_input_tokens: u.cachedTokens, cache_creation_input_tokens: 0 },
  };
}
