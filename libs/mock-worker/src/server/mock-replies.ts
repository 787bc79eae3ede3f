import { readFileSync } from 'node:fs';

export interface ScriptedReply {
  match: string;
  reply: string;
}

/**
 * `--replies FILE`: JSON lines `{"match": "...", "reply": "..."}`. The first entry whose `match`
 * occurs in the text of the prompt's last message decides the reply.
 */
export function loadReplies(path: string): ScriptedReply[] {
  const out: ScriptedReply[] = [];
  readFileSync(path, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (line.trim() === '') return;
      let entry: unknown;
      try {
        entry = JSON.parse(line);
      } catch (err) {
        throw new Error(`${path}:${i + 1}: not JSON (${(err as Error).message})`);
      }
      const e = entry as Partial<ScriptedReply>;
      if (typeof e?.match !== 'string' || typeof e.reply !== 'string') throw new Error(`${path}:${i + 1}: needs string fields "match" and "reply"`);
      out.push({ match: e.match, reply: e.reply });
    });
  return out;
}

export function pickReply(replies: readonly ScriptedReply[], lastMessage: string): string | undefined {
  return replies.find((r) => lastMessage.includes(r.match))?.reply;
}
