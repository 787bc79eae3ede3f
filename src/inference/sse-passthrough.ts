/**
 * Byte-level helpers for forwarding an upstream's SSE stream as it came: the proxy writes whole
 * events (never half of one, so an error event after a broken upstream starts on an event
 * boundary) without decoding, splitting or re-encoding them, and parses an event's JSON only when
 * the bytes show it carries what the gateway must see (usage, a finish reason, the end marker).
 */

const LF_LF = Buffer.from('\n\n');
const LF_CR_LF = Buffer.from('\n\r\n');
const DONE = Buffer.from('[DONE]');
const USAGE = Buffer.from('"usage"');
const FINISH_REASON = Buffer.from('"finish_reason"');

/** The index just past the last event terminator (a blank line: `\n\n` or `\r\n\r\n`) in `buf`, or -1. */
export function lastEventEnd(buf: Uint8Array): number {
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const lf = b.lastIndexOf(LF_LF);
  const crlf = b.lastIndexOf(LF_CR_LF);
  return Math.max(lf === -1 ? -1 : lf + 2, crlf === -1 ? -1 : crlf + 3);
}

/** What whole events in `buf` may tell the gateway: the end marker, or a non-null usage or finish reason. */
export function scanEvents(buf: Buffer): { done: boolean; outcome: boolean } {
  return { done: buf.includes(DONE), outcome: hasNonNull(buf, USAGE) || hasNonNull(buf, FINISH_REASON) };
}

/**
 * True when `key` (a quoted JSON key) occurs followed by a value other than `null`. OpenAI-style
 * chunks carry `"finish_reason":null` (and often `"usage":null`) in every event, so the key's
 * presence alone would send every event through JSON.parse.
 */
function hasNonNull(buf: Buffer, key: Buffer): boolean {
  for (let i = buf.indexOf(key); i !== -1; i = buf.indexOf(key, i + key.length)) {
    let j = i + key.length;
    // whitespace and the colon between the key and its value
    while (j < buf.length && (buf[j] === 0x20 || buf[j] === 0x3a || buf[j] === 0x09 || buf[j] === 0x0a || buf[j] === 0x0d)) j++;
    if (j < buf.length && buf[j] !== 0x6e /* n(ull) */) return true;
  }
  return false;
}
