import { readFileSync } from 'node:fs';
import { forkSeed, type Random } from './rng';

/** A chat message as sent to the endpoint. */
export interface Message {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** One conversation: the next request's messages (undefined when it is over), then its answer. */
export interface Conversation {
  id: string;
  next(): Message[] | undefined;
  answer(text: string): void;
}

export type WorkloadName = 'multiturn' | 'shared-prefix' | 'random' | 'long-context' | `file:${string}`;
export const BUILTIN_WORKLOADS = ['multiturn', 'shared-prefix', 'random', 'long-context'] as const;

/** Shape of the built-in workloads (SGLang's generated-shared-prefix benchmark is the model). */
export const SHAPE = {
  multiturnSystems: 8,
  multiturnSystemWords: 300,
  minTurns: 2,
  maxTurns: 5,
  prefixGroups: 16,
  prefixWords: 1500,
  questionWords: 40,
  longContextChars: 20_000,
};

const WORDS = 'the of and to in is was for on are with as by at be this from have or an not which one all were when we there can been has more if will would about what their so up out them into some could other then time these two may first any my now such like our over man me even most made after also did many before must through back years where much your way well down should because each just those people how too little state good very make world still own see men work long get here between both life being under never day same another know while last might us great old year off come since against go came right used take three'.split(' ');

export function words(rand: Random, n: number): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(WORDS[Math.floor(rand() * WORDS.length)]);
  return out.join(' ');
}

const between = (rand: Random, lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));

/** Builds the conversation factory for a workload; the same seed gives the same prompts. */
export function workload(name: WorkloadName, seed: number): (index: number) => Conversation {
  const rand = forkSeed(seed, `workload:${name}`);
  switch (name) {
    case 'multiturn': {
      const systems = Array.from({ length: SHAPE.multiturnSystems }, (_, g) => `You are assistant ${g}. ${words(forkSeed(seed, `system:${g}`), SHAPE.multiturnSystemWords)}`);
      return (i) => multiTurn(`c${i}`, systems[i % systems.length], Array.from({ length: between(rand, SHAPE.minTurns, SHAPE.maxTurns) }, () => words(rand, between(rand, 20, 80))));
    }
    case 'shared-prefix': {
      const prefixes = Array.from({ length: SHAPE.prefixGroups }, (_, g) => `Group ${g} instructions. ${words(forkSeed(seed, `prefix:${g}`), SHAPE.prefixWords)}`);
      return (i) => single(`c${i}`, [{ role: 'system', content: prefixes[Math.floor(rand() * prefixes.length)] }, { role: 'user', content: words(rand, SHAPE.questionWords) }]);
    }
    case 'random':
      return (i) => single(`c${i}`, [{ role: 'user', content: words(rand, between(rand, 30, 230)) }]);
    case 'long-context':
      return (i) => {
        let text = `Document ${i}: `;
        while (text.length < SHAPE.longContextChars) text += `${words(rand, 200)}\n`;
        return single(`c${i}`, [{ role: 'user', content: `${text.slice(0, SHAPE.longContextChars)}\n\nSummarise the document above.` }]);
      };
    default: {
      if (!name.startsWith('file:')) throw new Error(`unknown workload '${name}'`);
      const items = readJsonl(name.slice('file:'.length));
      return (i) => {
        const item = items[i % items.length];
        return 'turns' in item ? multiTurn(`c${i}`, item.system, item.turns) : single(`c${i}`, item.messages);
      };
    }
  }
}

/** Sends one message list once. */
function single(id: string, messages: Message[]): Conversation {
  let sent = false;
  return { id, next: () => (sent ? undefined : ((sent = true), messages)), answer: () => undefined };
}

/** Each turn appends the user's next message to the history, which holds the real previous answers. */
function multiTurn(id: string, system: string | undefined, turns: string[]): Conversation {
  const history: Message[] = system ? [{ role: 'system', content: system }] : [];
  let nextTurn = 0;
  return {
    id,
    next: () => {
      if (nextTurn >= turns.length) return undefined;
      history.push({ role: 'user', content: turns[nextTurn++] });
      return [...history];
    },
    answer: (text) => void history.push({ role: 'assistant', content: text }),
  };
}

export type FileItem = { messages: Message[] } | { system?: string; turns: string[] };

const ROLES = new Set(['system', 'user', 'assistant']);

/**
 * One JSON object per line: `{"prompt": "..."}`, `{"messages": [{role, content}, ...]}` (sent as
 * is), or `{"system"?: "...", "turns": ["...", "..."]}` (a conversation replayed turn by turn with
 * the real answers in between).
 */
export function readJsonl(path: string): FileItem[] {
  const out: FileItem[] = [];
  const lines = readFileSync(path, 'utf8').split(/\r?\n/);
  lines.forEach((line, n) => {
    if (!line.trim()) return;
    const where = `${path}:${n + 1}`;
    let item: any;
    try {
      item = JSON.parse(line);
    } catch {
      throw new Error(`${where}: not JSON`);
    }
    if (typeof item?.prompt === 'string') out.push({ messages: [{ role: 'user', content: item.prompt }] });
    else if (Array.isArray(item?.messages)) {
      if (item.messages.length === 0 || !item.messages.every((m: any) => ROLES.has(m?.role) && typeof m?.content === 'string')) throw new Error(`${where}: "messages" must be a non-empty list of {role: system|user|assistant, content: string}`);
      out.push({ messages: item.messages });
    } else if (Array.isArray(item?.turns)) {
      if (item.turns.length === 0 || !item.turns.every((t: unknown) => typeof t === 'string')) throw new Error(`${where}: "turns" must be a non-empty list of strings`);
      if (item.system !== undefined && typeof item.system !== 'string') throw new Error(`${where}: "system" must be a string`);
      out.push({ system: item.system, turns: item.turns });
    } else throw new Error(`${where}: needs "prompt", "messages" or "turns"`);
  });
  if (out.length === 0) throw new Error(`${path}: no prompts`);
  return out;
}
