/**
 * Python literals as the pythonic tool-call format writes them (strings in either quote,
 * True/False/None, ints, floats, lists, tuples, dicts) converted to JSON text. Anything else
 * (names, calls, expressions) is not a literal: undefined.
 */
class PyReader {
  i = 0;
  constructor(readonly s: string) {}

  ws(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i])) this.i++;
  }

  value(): unknown {
    this.ws();
    const c = this.s[this.i];
    if (c === '"' || c === "'") return this.string(c);
    if (c === '[' || c === '(') return this.seq(c === '[' ? ']' : ')');
    if (c === '{') return this.dict();
    const word = /^(True|False|None)\b/.exec(this.s.slice(this.i));
    if (word) {
      this.i += word[0].length;
      return word[0] === 'True' ? true : word[0] === 'False' ? false : null;
    }
    const num = /^[-+]?(\d[\d_]*\.?\d*([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?)/.exec(this.s.slice(this.i));
    if (num) {
      this.i += num[0].length;
      const n = Number(num[0].replace(/_/g, ''));
      if (!Number.isFinite(n)) throw new Error('bad number');
      return n;
    }
    throw new Error('not a literal');
  }

  string(q: string): string {
    const triple = this.s.startsWith(q.repeat(3), this.i);
    const end = triple ? q.repeat(3) : q;
    this.i += end.length;
    let out = '';
    for (;;) {
      if (this.i >= this.s.length) throw new Error('unterminated string');
      if (this.s.startsWith(end, this.i)) {
        this.i += end.length;
        return out;
      }
      const c = this.s[this.i++];
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = this.s[this.i++];
      const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', b: '\b', f: '\f', '0': '\0', '\n': '' };
      if (e in simple) out += simple[e];
      else if (e === 'x' || e === 'u' || e === 'U') {
        const len = e === 'x' ? 2 : e === 'u' ? 4 : 8;
        const hex = this.s.slice(this.i, this.i + len);
        if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== len) throw new Error('bad escape');
        out += String.fromCodePoint(parseInt(hex, 16));
        this.i += len;
      } else out += `\\${e}`; // Python keeps unknown escapes verbatim
    }
  }

  seq(close: string): unknown[] {
    this.i++;
    const items: unknown[] = [];
    for (;;) {
      this.ws();
      if (this.s[this.i] === close) {
        this.i++;
        return items;
      }
      items.push(this.value());
      this.ws();
      if (this.s[this.i] === ',') this.i++;
      else if (this.s[this.i] !== close) throw new Error('expected , or close');
    }
  }

  dict(): Record<string, unknown> {
    this.i++;
    const obj: Record<string, unknown> = {};
    for (;;) {
      this.ws();
      if (this.s[this.i] === '}') {
        this.i++;
        return obj;
      }
      const key = this.value();
      if (typeof key !== 'string' && typeof key !== 'number') throw new Error('bad key');
      this.ws();
      if (this.s[this.i++] !== ':') throw new Error('expected :');
      obj[String(key)] = this.value();
      this.ws();
      if (this.s[this.i] === ',') this.i++;
      else if (this.s[this.i] !== '}') throw new Error('expected , or }');
    }
  }
}

export function pyLiteralToJson(src: string): string | undefined {
  const r = new PyReader(src);
  try {
    const v = r.value();
    r.ws();
    return r.i === src.length ? JSON.stringify(v) : undefined;
  } catch {
    return undefined;
  }
}
