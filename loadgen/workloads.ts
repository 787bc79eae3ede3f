import { readFileSync } from 'node:fs';

/** A chat message as sent to the endpoint. */
export interface Message {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** One conversation: the next prompt, and what to do with the answer. */
export interface Conversation {
  id: string;
  next(): Message[] | undefined;
  answer(text: string): void;
}

export type WorkloadName = 'multiturn' | 'shared-prefix' | 'random' | 'long-context' | `file:${string}`;

/** mulberry32: small seeded PRNG so a run's prompts are reproducible from --seed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = 'the of and to in is was for on are with as by at be this from have or an not which one all were when we there can been has more if will would about what their so up out them into some could other then time these two may first any my now such like our over man me even most made after also did many before must through back years where much your way well down should because each just those people how too little state good very make world still own see men work long get here between both life being under never day same another know while last might us great old year off come since against go came right used take three'.split(' ');

function words(rand: () => number, n: number): string {
  let out = '';
  for (let i = 0; i < n; i++) out += `${WORDS[Math.floor(rand() * WORDS.length)]} `;
  return out.trim();
}

/** Builds the conversation factory for a workload. */
export function workload(name: WorkloadName, seed: number): (index: number) => Conversation {
  const rand = seeded(seed);
  const systems = Array.from({ length: 8 }, (_, g) => `You are assistant ${g}. ${words(seeded(seed + g + 1), 400)}`);
  if (name === 'multiturn') {
    return (i) => {
      const history: Message[] = [{ role: 'system', content: systems[i % systems.length] }];
      let turns = 2 + Math.floor(rand() * 4);
      return {
        id: `c${i}`,
        next: () => (turns-- > 0 ? (history.push({ role: 'user', content: words(rand, 20 + Math.floor(rand() * 60)) }), [...history]) : undefined),
        answer: (text) => void history.push({ role: 'assistant', content: text }),
      };
    };
  }
  if (name === 'shared-prefix') {
    return (i) => single(`c${i}`, [{ role: 'system', content: systems[Math.floor(rand() * systems.length)] }, { role: 'user', content: words(rand, 40) }]);
  }
  if (name === 'random') return (i) => single(`c${i}`, [{ role: 'user', content: words(rand, 30 + Math.floor(rand() * 200)) }]);
  if (name === 'long-context') return (i) => single(`c${i}`, [{ role: 'user', content: `${words(rand, 3600).slice(0, 20_000)}\nSummarise the above.` }]);
  if (name.startsWith('file:')) {
    const items = readJsonl(name.slice(5));
    return (i) => {
      const item = items[i % items.length];
      return single(`c${i}`, item);
    };
  }
  throw new Error(`unknown workload '${name}'`);
}

function single(id: string, messages: Message[]): Conversation {
  let sent = false;
  return { id, next: () => (sent ? undefined : ((sent = true), messages)), answer: () => undefined };
}

/** One JSON object per line: `{"prompt": "..."}` or `{"messages": [...]}`. */
export function readJsonl(path: string): Message[][] {
  const out: Message[][] = [];
  readFileSync(path, 'utf8')
    .split('\n')
    .forEach((line, n) => {
      if (!line.trim()) return;
      let item: { prompt?: unknown; messages?: unknown };
      try {
        item = JSON.parse(line);
      } catch {
        throw new Error(`${path}:${n + 1}: not JSON`);
      }
      if (typeof item.prompt === 'string') out.push([{ role: 'user', content: item.prompt }]);
      else if (Array.isArray(item.messages)) out.push(item.messages as Message[]);
      else throw new Error(`${path}:${n + 1}: needs "prompt" or "messages"`);
    });
  if (out.length === 0) throw new Error(`${path}: no prompts`);
  return out;
}
