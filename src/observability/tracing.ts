import { context, INVALID_SPAN_CONTEXT, propagation, ROOT_CONTEXT, trace, SpanKind, SpanStatusCode, type Context, type Span } from '@opentelemetry/api';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

const tracer = trace.getTracer('drover-gateway');
let sdk: NodeSDK | undefined;

// W3C trace context is honoured even with tracing off: an incoming traceparent still reaches the
// worker's metadata and the log lines.
propagation.setGlobalPropagator(new W3CTraceContextPropagator());

/**
 * Starts OpenTelemetry tracing when an OTLP endpoint is configured (the standard OTEL_* variables,
 * or --otlp-endpoint). Off otherwise: the API then hands out no-op spans at almost no cost.
 */
export function startTracing(endpoint: string | undefined, serviceName: string): boolean {
  const env = process.env;
  const configured = endpoint || env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (!configured || env.OTEL_SDK_DISABLED === 'true' || sdk) return sdk !== undefined;
  const url = endpoint ? `${endpoint.replace(/\/$/, '')}/v1/traces` : undefined;
  const exporter = new OTLPTraceExporter(url ? { url } : {});
  sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME ?? serviceName,
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: Number(env.OTEL_BSP_SCHEDULE_DELAY ?? 1000) })],
    textMapPropagator: new W3CTraceContextPropagator(),
    instrumentations: [],
  });
  sdk.start();
  return true;
}

export async function stopTracing(): Promise<void> {
  const s = sdk;
  sdk = undefined;
  await s?.shutdown().catch(() => undefined);
}

/** The context carried by an incoming request's `traceparent`/`tracestate` headers. */
export function extractContext(headers: Record<string, string | string[] | undefined>): Context {
  return propagation.extract(context.active(), headers, {
    get: (carrier, key) => {
      const v = carrier[key];
      return Array.isArray(v) ? v[0] : v;
    },
    keys: (carrier) => Object.keys(carrier),
  });
}

/** True while an SDK exports spans; off, the request path skips building spans altogether. */
export function tracingEnabled(): boolean {
  return sdk !== undefined;
}

/** Stands in for every span while tracing is off and no trace came in: its methods do nothing. */
const NO_SPAN: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

export function startSpan(name: string, parent: Context, attributes?: Record<string, string | number | boolean>, kind = SpanKind.INTERNAL): Span {
  // Off, a span would be non-recording anyway: hand back the parent's (so an incoming trace id
  // still reaches logs and workers) instead of allocating one per call.
  if (!sdk) return trace.getSpan(parent) ?? NO_SPAN;
  return tracer.startSpan(name, { kind, attributes }, parent);
}

export function childContext(parent: Context, span: Span): Context {
  if (!sdk) return parent;
  return trace.setSpan(parent, span);
}

/** The trace context of a request's headers: the root context when none came in (no parsing). */
export function headersContext(headers: Record<string, string | string[] | undefined>): Context {
  return headers.traceparent === undefined ? ROOT_CONTEXT : extractContext(headers);
}

/** Writes the W3C trace context of `ctx` into gRPC metadata so the engine continues the trace. */
export function injectInto(ctx: Context, metadata: Record<string, string>): Record<string, string> {
  propagation.inject(ctx, metadata, { set: (carrier, key, value) => (carrier[key] = value) });
  return metadata;
}

/** The trace id to stamp on log lines (undefined when tracing is off and no traceparent came in). */
export function traceIdOf(ctx: Context): string | undefined {
  const id = trace.getSpanContext(ctx)?.traceId;
  return id && id !== '00000000000000000000000000000000' ? id : undefined;
}

export function endSpan(span: Span, err?: unknown): void {
  if (!sdk) return;
  if (err) {
    span.recordException(err instanceof Error ? err : new Error(String(err)));
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
  }
  span.end();
}

export { SpanKind };
export type { Context, Span };
