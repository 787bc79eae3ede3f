import { DroverError } from '@drover/runtime';

/** How the gateway talks to a worker: gRPC (token ids in/out) or an OpenAI-compatible HTTP API. */
export type WorkerKind = 'grpc' | 'http';

const SCHEMES: Record<string, WorkerKind> = { 'grpc:': 'grpc', 'grpcs:': 'grpc', 'http:': 'http', 'https:': 'http' };

/** Validates a worker URL and returns it normalised (scheme://host:port, no path). */
export function normaliseWorkerUrl(raw: unknown): string {
  if (typeof raw !== 'string' || raw.trim() === '') throw DroverError.invalidRequest("'url' must be a non-empty string", 'url');
  let parsed: URL;
  try {
    parsed = new URL(raw.trim());
  } catch {
    throw DroverError.invalidRequest(`'${raw}' is not a valid URL (expected grpc://host:port or http://host:port)`, 'url');
  }
  const kind = SCHEMES[parsed.protocol];
  if (!kind) {
    throw DroverError.invalidRequest(`unsupported worker URL scheme '${parsed.protocol}' (use grpc://, grpcs://, http:// or https://)`, 'url');
  }
  // gRPC has no default port; for HTTP(S) the scheme's default (80/443) is what URL drops here.
  if (!parsed.hostname || (kind === 'grpc' && !parsed.port)) throw DroverError.invalidRequest(`worker URL '${raw}' needs a host and a port`, 'url');
  if ((parsed.pathname && parsed.pathname !== '/') || parsed.search || parsed.hash || parsed.username || parsed.password) {
    throw DroverError.invalidRequest(`worker URL '${raw}' must not have a path, query or credentials`, 'url');
  }
  return `${parsed.protocol}//${parsed.host}`;
}

/** The worker kind a (normalised or raw) URL names; throws the same 400 as normaliseWorkerUrl. */
export function workerKindOf(url: string): WorkerKind {
  return SCHEMES[new URL(normaliseWorkerUrl(url)).protocol];
}
