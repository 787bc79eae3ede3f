import { Tokenizer as HfTokenizer } from 'tokenizers';

/**
 * The served model's own tokenizer, as an engine holds it: the mock reads prompts (to pick a
 * scripted reply) and tokenizes replies with it. Added tokens are parsed in reply text, so a
 * scripted `<|python_tag|>` or `<｜tool▁calls▁begin｜>` becomes the model's single token.
 */
export class MockText {
  private readonly hf: HfTokenizer;
  private readonly splitter: RegExp | undefined;

  constructor(tokenizerJson: string) {
    this.hf = HfTokenizer.fromString(tokenizerJson);
    const json = JSON.parse(tokenizerJson) as { added_tokens?: { content: string; special?: boolean }[] };
    const special = (json.added_tokens ?? []).filter((t) => t.special).map((t) => t.content.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    this.splitter = special.length > 0 ? new RegExp(special.sort((a, b) => b.length - a.length).join('|')) : undefined;
  }

  async encode(text: string): Promise<number[]> {
    return (await this.hf.encode(text, null, { addSpecialTokens: false })).getIds();
  }

  /**
   * The text of the prompt's last message, whatever its role: the prompt split at the template's
   * special tokens, minus the trailing generation prompt (role headers, an empty think block).
   */
  async lastMessage(ids: number[]): Promise<string> {
    const text = await this.hf.decode(ids, false);
    const segments = this.splitter ? text.split(this.splitter) : [text];
    for (let i = segments.length - 1; i >= 0; i--) if (!HEADER.test(segments[i])) return segments[i];
    return '';
  }
}

/** A segment that is only a turn header: a role name, whitespace, an opened or empty think block. */
const HEADER = /^\s*(system|user|assistant|tool|ipython|developer|model)?\s*(<think>\s*(<\/think>)?)?\s*$/i;
