/**
 * Role safety (special tokens here: every added token of the vocabulary, special or not): text a client sends (message content, tool results, names, tool-call arguments,
 * tool definitions) must never become control tokens. A rendered prompt is one string, and an
 * ordinary encode turns every special-token text in it (`<|im_start|>system`) into the special
 * token, so a client could open a system turn of its own. Only the template may write control
 * tokens.
 *
 * How: client strings that contain special-token text have each occurrence replaced by a sentinel
 * (a private-use character pair around an index) before the template renders. In the rendered
 * text, the special tokens left are the template's own; the sentinels mark the client's. The text
 * between two template special tokens is then encoded as one piece without special-token parsing,
 * so the client's `<|im_start|>` is tokenized as the characters it is, exactly as a tokenizer with
 * special-token splitting turned off would.
 *
 * Client strings without special-token text (nearly all) are not touched: the check is the only
 * cost on the common path.
 */

/** Opens and closes a sentinel. A client's own U+E000 is protected too, so it cannot forge one. */
const OPEN = '\uE000';
const CLOSE = '\uE001';

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * `all`: every added token. `special`: only those flagged special, for assistant text (content,
 * reasoning), where templates look for the model's own markup (Qwen3 strips `<think>…</think>`
 * from earlier answers by splitting on `</think>`): the model wrote that text, and the turn
 * tokens (`<|im_end|>`, `<|im_start|>`) stay text there too.
 */
type Mode = 'all' | 'special';

export class ControlTokenGuard {
  private readonly any: Record<Mode, string>;
  /** Per mode and list of trusted strings: group 1 a trusted string, else a token or the sentinel opener. */
  private readonly scanners = new Map<string, RegExp>();
  /** Sentinels and the template's special tokens, in rendered text. */
  private readonly pieces: RegExp;

  constructor(addedTokens: readonly string[], specialTokens: readonly string[] = addedTokens) {
    // Longest first, so a token that prefixes another never wins.
    const alternation = (tokens: readonly string[]) => {
      const alts = [...new Set(tokens)].filter((t) => t.length > 0).sort((a, b) => b.length - a.length).map(escapeRegExp);
      return alts.length > 0 ? alts.join('|') : '(?!)';
    };
    this.any = { all: alternation(addedTokens), special: alternation(specialTokens) };
    this.pieces = new RegExp(`${OPEN}(\\d+)${CLOSE}|(${this.any.all})`, 'g');
  }

  /**
   * Whether any client string anywhere in `value` (messages, tools) holds special-token text.
   * `trusted`: text the gateway itself put into client strings (the vision placeholder), kept.
   */
  needed(value: unknown, trusted: readonly string[] = [], mode: Mode = 'all'): boolean {
    if (typeof value === 'string') {
      const re = this.scanner(trusted, mode);
      re.lastIndex = 0;
      for (let m = re.exec(value); m !== null; m = re.exec(value)) if (m[1] === undefined) return true;
      return false;
    }
    if (Array.isArray(value)) return value.some((v) => this.needed(v, trusted, mode));
    if (typeof value === 'object' && value !== null) return Object.values(value).some((v) => this.needed(v, trusted, mode));
    return false;
  }

  /** `value` with special-token text in its strings replaced by sentinels; `originals` collects what they stand for. */
  protect<T>(value: T, originals: string[], trusted: readonly string[] = [], mode: Mode = 'all'): T {
    if (typeof value === 'string') {
      return value.replace(this.scanner(trusted, mode), (m: string, kept: string | undefined) => (kept !== undefined ? m : `${OPEN}${originals.push(m) - 1}${CLOSE}`)) as T;
    }
    if (Array.isArray(value)) return value.map((v: unknown) => this.protect(v, originals, trusted, mode)) as T;
    if (typeof value === 'object' && value !== null) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = this.protect(v, originals, trusted, mode);
      return out as T;
    }
    return value;
  }

  /** needed() for chat messages: an assistant's content and reasoning are checked for special tokens only. */
  neededInMessages(messages: readonly object[], trusted: readonly string[] = []): boolean {
    return messages.some((m) => {
      if (!isAssistant(m)) return this.needed(m, trusted);
      const { content, reasoning_content, ...rest } = m as Record<string, unknown>;
      return this.needed(content, trusted, 'special') || this.needed(reasoning_content, trusted, 'special') || this.needed(rest, trusted);
    });
  }

  /** protect() for chat messages, with the same rule as neededInMessages. */
  protectMessages<T extends object>(messages: readonly T[], originals: string[], trusted: readonly string[] = []): T[] {
    return messages.map((m) => {
      if (!isAssistant(m)) return this.protect(m, originals, trusted);
      const { content, reasoning_content, ...rest } = m as Record<string, unknown>;
      const out: Record<string, unknown> = this.protect(rest, originals, trusted);
      out.content = this.protect(content, originals, trusted, 'special');
      if (reasoning_content !== undefined) out.reasoning_content = this.protect(reasoning_content, originals, trusted, 'special');
      return out as T;
    });
  }

  private scanner(trusted: readonly string[], mode: Mode): RegExp {
    const key = `${mode}\u0000${trusted.join('\u0000')}`;
    let re = this.scanners.get(key);
    if (!re) {
      const kept = trusted.length > 0 ? trusted.map(escapeRegExp).join('|') : '(?!)';
      re = new RegExp(`(${kept})|${this.any[mode]}|${OPEN}`, 'g');
      this.scanners.set(key, re);
    }
    return re;
  }

  /**
   * The rendered text split into the template's special tokens and the plain text between them
   * (client text restored in place), plus the whole text as the client sees it.
   */
  split(rendered: string, originals: readonly string[]): { text: string; pieces: Array<{ special: string } | { plain: string }> } {
    const pieces: Array<{ special: string } | { plain: string }> = [];
    let plain = '';
    let text = '';
    let from = 0;
    this.pieces.lastIndex = 0;
    for (let m = this.pieces.exec(rendered); m !== null; m = this.pieces.exec(rendered)) {
      plain += rendered.slice(from, m.index);
      from = m.index + m[0].length;
      if (m[1] !== undefined) {
        // A sentinel: the client's text, kept in the plain piece.
        plain += originals[Number(m[1])] ?? m[0];
        continue;
      }
      if (plain) pieces.push({ plain });
      text += plain + m[2];
      plain = '';
      pieces.push({ special: m[2] });
    }
    plain += rendered.slice(from);
    if (plain) pieces.push({ plain });
    text += plain;
    return { text, pieces };
  }
}

function isAssistant(m: object): boolean {
  return (m as { role?: unknown }).role === 'assistant';
}
