import type { Conversation, Message } from './workloads';

export type Spread = 'request' | 'session';

export interface Turn {
  conversation: Conversation;
  messages: Message[];
  url: string;
}

/**
 * Hands out the next request: a waiting conversation's next turn if one is ready (its previous
 * answer arrived), else a new conversation. URLs rotate per request, or per conversation so a
 * whole session stays on one node (`spread: 'session'`).
 */
export class SessionPool {
  private readonly ready: Conversation[] = [];
  private readonly home = new Map<Conversation, string>();
  private created = 0;
  private rotation = 0;

  constructor(
    private readonly makeConversation: (index: number) => Conversation,
    private readonly urls: string[],
    private readonly spread: Spread,
  ) {}

  nextTurn(): Turn {
    for (;;) {
      const fromQueue = this.ready.shift();
      const conversation = fromQueue ?? this.makeConversation(this.created++);
      const messages = conversation.next();
      if (messages) return { conversation, messages, url: this.urlFor(conversation) };
      this.home.delete(conversation);
      // A brand-new conversation with nothing to send would loop forever: workloads must not do that.
      if (!fromQueue) throw new Error(`workload produced an empty conversation (${conversation.id})`);
    }
  }

  /** The answer continues the conversation; a failed turn ends it (there is no real answer to append). */
  finished(turn: Turn, answer: string | undefined): void {
    if (answer === undefined) {
      this.home.delete(turn.conversation);
      return;
    }
    turn.conversation.answer(answer);
    this.ready.push(turn.conversation);
  }

  private urlFor(conversation: Conversation): string {
    if (this.spread === 'request') return this.urls[this.rotation++ % this.urls.length];
    let url = this.home.get(conversation);
    if (!url) {
      url = this.urls[this.rotation++ % this.urls.length];
      this.home.set(conversation, url);
    }
    return url;
  }
}
