import { Body, Controller, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Rng } from '@drover/runtime';
import { anthropicErrorBody } from '../errors/error-body';
import { toDroverError } from '../errors/to-drover-error';
import { HttpProxyService } from '../inference/http-proxy.service';
import { InferenceService } from '../inference/inference.service';
import type { FinishReason, InferenceRequest, Usage } from '../inference/inference-types';
import { VisionService } from '../multimodal/vision.service';
import { RNG } from '../runtime/tokens';
import { TokenizerService } from '../tokenizer/tokenizer.service';
import { toolUseId } from './anthropic-chat';
import { renderAnthropicPrompt } from './anthropic-prompt';
import { messagesSchema, type MessagesBody } from './anthropic-schemas';
import { outputParser } from './chat-tools';
import { OutputBlocks, PLAIN_TEXT, type Block } from './output-blocks';
import { requestScope } from './request-context';
import { SseWriter } from './sse';
import { singleConstraint } from './structured-output';
import { parseBody } from './validation';

/**
 * Anthropic Messages API over the same inference path; errors in Anthropic's shape (see the
 * filter). The model's parsers turn its output into `thinking`, `text` and `tool_use` blocks
 * (streamed as content_block_start / deltas / stop, one block at a time), stop_reason `tool_use`.
 */
@Controller('v1')
export class MessagesController {
  constructor(
    @Inject(InferenceService) private readonly inference: InferenceService,
    @Inject(TokenizerService) private readonly tokenizers: TokenizerService,
    @Inject(HttpProxyService) private readonly proxy: HttpProxyService,
    @Inject(VisionService) private readonly vision: VisionService,
    @Inject(RNG) rng: Rng,
  ) {
    this.rng = rng.fork('anthropic-tool-use-ids');
  }

  private readonly rng: Rng;

  @Post('messages')
  @HttpCode(200)
  async create(@Body() raw: unknown, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const body = parseBody(messagesSchema, raw);
    this.proxy.requireGrpc(body.model, 'The Anthropic Messages API');
    this.inference.requireModel(body.model);
    const scope = requestScope(req, reply);
    // Admitted (limits, a concurrency slot) before any template, tokenizer or image work.
    const admission = await this.inference.admitEarly(scope, reply);
    const { plan, tokenizer, text: promptText, ...prompt } = await renderAnthropicPrompt(body, this.tokenizers, this.vision);
    const requestId = scope.requestId;
    const id = `msg_${requestId.replace(/[^A-Za-z0-9]/g, '').slice(0, 40)}`;
    const request: InferenceRequest = {
      ...scope,
      admission,
      model: body.model,
      tokenizer,
      ...prompt,
      promptText,
      maxTokens: body.max_tokens,
      sampling: { temperature: body.temperature, topP: body.top_p, topK: body.top_k, ...singleConstraint([plan.constraint]) },
      stop: body.stop_sequences ?? [],
      // Parsers read markers some models emit as special tokens (harmony, DeepSeek, Mistral).
      skipSpecialTokens: !plan.active,
      user: body.metadata?.user_id,
      buffered: !body.stream,
    };
    const parser = outputParser(plan, promptText, this.rng) ?? PLAIN_TEXT;
    const events = this.inference.generate(request);
    if (!body.stream) {
      let blocks = new OutputBlocks();
      for await (const e of events) {
        if (e.type === 'text') blocks.push(parser.push(e.text));
        else if (e.type === 'reset') blocks = new OutputBlocks();
        else {
          blocks.push(parser.flush());
          const stop = stopReason(e.finishReason, e.matchedStop, body, blocks.called);
          reply.send(message(id, body.model, blocks.blocks.map(contentBlock), stop, stopSequence(e.matchedStop, body), e.usage));
        }
      }
      return;
    }
    const head = await events.next();
    const sse = new SseWriter(reply);
    sse.event('message_start', { type: 'message_start', message: message(id, body.model, [], null, null, { promptTokens: 0, completionTokens: 0, cachedTokens: 0 }) });
    const blocks = new OutputBlocks({
      open: (b, index) => sse.event('content_block_start', { type: 'content_block_start', index, content_block: contentBlock(b.kind === 'call' ? { ...b, arguments: '{}' } : { ...b, text: '' }) }),
      delta: (b, index, fragment) => sse.event('content_block_delta', { type: 'content_block_delta', index, delta: blockDelta(b, fragment) }),
      close: (_b, index) => sse.event('content_block_stop', { type: 'content_block_stop', index }),
    });
    try {
      const all = async function* () {
        if (!head.done) yield head.value;
        yield* events;
      };
      for await (const e of all()) {
        if (sse.isClosed) break;
        if (e.type === 'text') {
          blocks.push(parser.push(e.text));
          if (sse.backlogged) await sse.drained(); // backpressure: a slow reader holds the next pull
        } else if (e.type === 'end') {
          blocks.push(parser.flush());
          blocks.finish();
          sse.event('message_delta', {
            type: 'message_delta',
            delta: { stop_reason: stopReason(e.finishReason, e.matchedStop, body, blocks.called), stop_sequence: stopSequence(e.matchedStop, body) },
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

/** A parsed block as an Anthropic content block. */
function contentBlock(b: Block): Record<string, unknown> {
  if (b.kind === 'reasoning') return { type: 'thinking', thinking: b.text, signature: '' };
  if (b.kind === 'text') return { type: 'text', text: b.text };
  return { type: 'tool_use', id: toolUseId(b.id), name: b.name, input: JSON.parse(b.arguments || '{}') as unknown };
}

function blockDelta(b: Block, fragment: string): Record<string, unknown> {
  if (b.kind === 'reasoning') return { type: 'thinking_delta', thinking: fragment };
  if (b.kind === 'text') return { type: 'text_delta', text: fragment };
  return { type: 'input_json_delta', partial_json: fragment };
}

function stopSequence(matched: string | number | undefined, body: MessagesBody): string | null {
  return typeof matched === 'string' && (body.stop_sequences ?? []).includes(matched) ? matched : null;
}

function stopReason(reason: FinishReason, matched: string | number | undefined, body: MessagesBody, called: boolean): string {
  if (reason === 'length') return 'max_tokens';
  if (called) return 'tool_use';
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
