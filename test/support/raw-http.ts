import { connect, type Socket } from 'node:net';

export interface RawExchange {
  /** Everything the server wrote, as text. */
  text: string;
  /** The status of the first response, if any arrived. */
  status?: number;
  /** The first response's body parsed as JSON (undefined when absent or not JSON). */
  json?: unknown;
  /** ms from connecting until the server closed the connection. */
  closedAfterMs: number;
}

/**
 * Opens a raw TCP connection to `url`, lets `drive` write to it (slowly, partially, never
 * finishing: whatever a test wants), and resolves when the server closes the connection. The
 * test waits on that close, never on a timer; `maxMs` only turns a server that never closes into
 * a failure instead of a hang.
 */
export function rawExchange(url: string, drive: (socket: Socket) => void, maxMs = 15_000): Promise<RawExchange> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(Number(port), hostname.replace(/^\[|\]$/g, ''));
    const chunks: Buffer[] = [];
    const guard = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server did not close the connection within ${maxMs} ms; got: ${Buffer.concat(chunks).toString().slice(0, 300)}`));
    }, maxMs);
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', () => undefined); // a reset is a close too
    socket.on('close', () => {
      clearTimeout(guard);
      const text = Buffer.concat(chunks).toString();
      resolve({ text, ...parseResponse(text), closedAfterMs: Date.now() - started });
    });
    socket.on('connect', () => drive(socket));
  });
}

function parseResponse(text: string): { status?: number; json?: unknown } {
  const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
  if (!m) return {};
  const headEnd = text.indexOf('\r\n\r\n');
  const head = text.slice(0, headEnd);
  let body = headEnd >= 0 ? text.slice(headEnd + 4) : '';
  if (/transfer-encoding: chunked/i.test(head)) body = dechunk(body);
  const length = /content-length: (\d+)/i.exec(head);
  if (length) body = Buffer.from(body).subarray(0, Number(length[1])).toString();
  try {
    return { status: Number(m[1]), json: JSON.parse(body) };
  } catch {
    return { status: Number(m[1]) };
  }
}

function dechunk(body: string): string {
  let out = '';
  let rest = body;
  for (;;) {
    const eol = rest.indexOf('\r\n');
    if (eol < 0) return out;
    const size = parseInt(rest.slice(0, eol), 16);
    if (!Number.isFinite(size) || size === 0) return out;
    out += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 2 + size + 2);
  }
}

/** The request head for a JSON POST, with the headers given (content-length is the caller's). */
export function postHead(path: string, host: string, headers: Record<string, string>): string {
  const lines = [`POST ${path} HTTP/1.1`, `host: ${host}`, 'content-type: application/json', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  return `${lines.join('\r\n')}\r\n\r\n`;
}
