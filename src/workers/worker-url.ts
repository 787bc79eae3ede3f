import { DroverError } from '@drover/runtime';

const SCHEMES = new Set(['grpc:', 'grpcs:']);

/** Validates a worker URL and returns it normalised (scheme://host:port, no path). */
export function normaliseWorkerUrl(raw: unknown): string {
  if (typeof raw !== 'string' || raw.trim() === '') throw DroverError.invalidRequest("'url' must be a non-empty string", 'url');
  let parsed: URL;
  try {
    parsed = new URL(raw.trim());
  } catch {
    throw DroverError.invalidRequest(`'${raw}' is not a valid URL (expected grpc://host:port)`, 'url');
  }
  if (!SCHEMES.has(parsed.protocol)) {
    throw DroverError.invalidRequest(`unsupported worker URL scheme '${parsed.protocol}' (use grpc:// or grpcs://)`, 'url');
  }
  if (!parsed.hostname || !parsed.port) throw DroverError.invalidRequest(`worker URL '${raw}' needs a host and a port`, 'url');
  if ((parsed.pathname && parsed.pathname !== '/') || parsed.search) {
    throw DroverError.invalidRequest(`worker URL '${raw}' must not have a path or query`, 'url');
  }
  return `${parsed.protocol}//${parsed.host}`;
}
