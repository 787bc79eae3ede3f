import type { MockModelFiles } from './mock-model-files';
import { sampleFor, type MockConstraint } from './mock-constraints';
import { pickReply, type ScriptedReply } from './mock-replies';
import { MockText } from './mock-text';

/**
 * Decides when a request's output is not the usual random words: a scripted reply whose `match`
 * occurs in the prompt's last message, else a value satisfying the request's JSON constraint (or
 * its first choice). The served model's tokenizer is loaded only when one of these is needed.
 */
export class MockOutputPlanner {
  private text: MockText | undefined;

  constructor(
    private readonly files: () => MockModelFiles,
    private readonly replies: readonly ScriptedReply[],
  ) {}

  /** Token ids to produce, or undefined for the usual generated text. */
  async script(promptIds: number[], constraint: MockConstraint | undefined): Promise<number[] | undefined> {
    if (this.replies.length > 0) {
      const reply = pickReply(this.replies, await this.mockText().lastMessage(promptIds));
      if (reply !== undefined) return this.mockText().encode(reply);
    }
    if (constraint?.kind === 'json_schema') return this.mockText().encode(JSON.stringify(sampleFor(constraint.schema)));
    if (constraint?.kind === 'json_object') return this.mockText().encode('{}');
    if (constraint?.kind === 'choice') return this.mockText().encode(constraint.choices[0]);
    return undefined;
  }

  private mockText(): MockText {
    this.text ??= new MockText(this.files().tokenizerJson);
    return this.text;
  }
}
