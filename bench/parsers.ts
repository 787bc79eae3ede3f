/**
 * `npm run bench -- parsers --json`: streaming throughput of every output parser. Each scripted
 * output (prose, reasoning where the family has it, and two calls with ~1 KB of arguments each,
 * written in the family's own format) is cut into token-sized pieces (1–8 characters, seeded) and
 * pushed through a fresh createOutputParser, as the gateway does per response. Reported per
 * parser: MB/s of model text, and CPU µs added per streamed token (parser time / pieces). A
 * pass-through parser (no reasoning, no tools) gives the floor of the harness itself.
 * Each parser is timed in 7 interleaved rounds; the median round is reported.
 * Options: --seconds S per parser in total (default 2).
 */
import { createOutputParser, type OutputParserOptions, type ReasoningKind, type ToolDefinition, type ToolParserKind } from '@drover/parsers';
import { SeededRng } from '@drover/runtime';

export const description = 'parser MB/s streaming token-sized pieces and CPU µs added per streamed token';

const tools: ToolDefinition[] = [{ function: { name: 'get_weather' } }, { function: { name: 'search_docs' } }];

const PROSE = 'The forecast for the coming week shows mild temperatures with scattered showers on Tuesday, and, as usual, "clear" skies by the weekend. ';
const REASONING = 'The user wants the weather; I should call the tool with the city, then summarise what it returns in one sentence. ';

function args(seed: number): Record<string, unknown> {
  return {
    city: `Paris ${seed}`,
    query: PROSE.repeat(6).trim(),
    filters: { units: 'metric', days: [1, 2, 3, 4, 5, 6, 7], include_hourly: true, threshold: -2.5e-3 },
  };
}

/** The model's text for: some reasoning, a sentence, two calls — in each family's format. */
function script(kind: ToolParserKind | 'none'): { text: string; opts: Omit<OutputParserOptions, 'rng'> } {
  const a = JSON.stringify(args(1));
  const b = JSON.stringify(args(2));
  const think = `<think>${REASONING.repeat(8)}</think>\n\n`;
  const lead = PROSE.repeat(4);
  const py = (o: Record<string, unknown>) => `city=${JSON.stringify(o.city)}, query=${JSON.stringify(o.query)}, filters={"units": "metric", "days": [1, 2, 3, 4, 5, 6, 7], "include_hourly": True, "threshold": -2.5e-3}`;
  const reasoning = (k: ReasoningKind | null) => ({ reasoning: k, tools });
  switch (kind) {
    case 'none':
      return { text: PROSE.repeat(40), opts: { reasoning: null, toolParser: null, tools: null } };
    case 'hermes':
      return { text: `${think}${lead}<tool_call>\n{"name": "get_weather", "arguments": ${a}}\n</tool_call>\n<tool_call>\n{"name": "search_docs", "arguments": ${b}}\n</tool_call>`, opts: { ...reasoning('qwen3'), toolParser: kind } };
    case 'llama3_json':
      return { text: `<|python_tag|>{"name": "get_weather", "parameters": ${a}}; {"name": "search_docs", "parameters": ${b}}`, opts: { ...reasoning(null), toolParser: kind } };
    case 'mistral':
      return { text: `${lead}[TOOL_CALLS]get_weather[ARGS]${a}[TOOL_CALLS]search_docs[ARGS]${b}`, opts: { ...reasoning(null), toolParser: kind } };
    case 'deepseek_v3':
      return {
        text: `${REASONING.repeat(8)}</think>\n\n${lead}<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n\`\`\`json\n${a}\n\`\`\`<｜tool▁call▁end｜>\n<｜tool▁call▁begin｜>function<｜tool▁sep｜>search_docs\n\`\`\`json\n${b}\n\`\`\`<｜tool▁call▁end｜><｜tool▁calls▁end｜>`,
        opts: { ...reasoning('deepseek_r1'), toolParser: kind },
      };
    case 'pythonic':
      return { text: `[get_weather(${py(args(1))}), search_docs(${py(args(2))})]`, opts: { ...reasoning(null), toolParser: kind } };
    case 'harmony':
      return {
        text: `<|channel|>analysis<|message|>${REASONING.repeat(8)}<|end|><|start|>assistant<|channel|>commentary<|message|>${lead}<|end|><|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>${a}<|call|><|start|>assistant<|channel|>commentary to=functions.search_docs <|constrain|>json<|message|>${b}<|call|>`,
        opts: { ...reasoning('harmony'), toolParser: kind },
      };
    case 'kimi_k2':
      return {
        text: `${lead}<|tool_calls_section_begin|><|tool_call_begin|>functions.get_weather:0<|tool_call_argument_begin|>${a}<|tool_call_end|><|tool_call_begin|>functions.search_docs:1<|tool_call_argument_begin|>${b}<|tool_call_end|><|tool_calls_section_end|>`,
        opts: { ...reasoning('think'), toolParser: kind },
      };
  }
}

function pieces(text: string, seed: string): string[] {
  const rng = new SeededRng(seed);
  const out: string[] = [];
  for (let i = 0; i < text.length; ) {
    const n = 1 + rng.int(8);
    out.push(text.slice(i, i + n));
    i += n;
  }
  return out;
}

interface Workload {
  chunks: string[];
  bytes: number;
  once(): number;
}

function workload(kind: ToolParserKind | 'none'): Workload {
  const { text, opts } = script(kind);
  const chunks = pieces(text, kind);
  const rng = new SeededRng('ids');
  const once = (): number => {
    const p = createOutputParser({ ...opts, rng });
    let n = 0;
    for (const c of chunks) n += p.push(c).calls.filter((d) => d.id !== undefined).length;
    return n + p.flush().calls.filter((d) => d.id !== undefined).length;
  };
  return { chunks, bytes: Buffer.byteLength(text), once };
}

/** Milliseconds per run of `w`, timed over about `ms` milliseconds. */
function timeRuns(w: Workload, ms: number): number {
  let runs = 0;
  const t0 = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (let k = 0; k < 20; k++) w.once();
    runs += 20;
    elapsed = performance.now() - t0;
  }
  return elapsed / runs;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const i = args.indexOf('--seconds');
  const seconds = i >= 0 ? Number(args[i + 1]) : 2;
  if (!(seconds > 0)) throw new Error('--seconds needs a positive number');
  const kinds: Array<ToolParserKind | 'none'> = ['none', 'hermes', 'llama3_json', 'mistral', 'deepseek_v3', 'pythonic', 'harmony', 'kimi_k2'];
  const loads = kinds.map(workload);
  loads.forEach((w, k) => {
    const calls = w.once();
    if (calls !== (kinds[k] === 'none' ? 0 : 2)) throw new Error(`${kinds[k]}: the script produced ${calls} calls; the bench would measure the wrong path`);
    for (let r = 0; r < 200; r++) w.once(); // warm-up (JIT)
  });
  // Rounds interleave the parsers so that a burst of load elsewhere on the machine hits them all.
  const ROUNDS = 7;
  const perRun: number[][] = kinds.map(() => []);
  for (let r = 0; r < ROUNDS; r++) loads.forEach((w, k) => perRun[k].push(timeRuns(w, (seconds * 1000) / ROUNDS)));
  const out: Record<string, unknown> = {};
  const round = (x: number, d: number) => Math.round(x * 10 ** d) / 10 ** d;
  kinds.forEach((k, i) => {
    const ms = median(perRun[i]);
    const f = { mb_per_s: round(loads[i].bytes / (ms / 1000) / 1e6, 1), us_per_token: round((ms * 1000) / loads[i].chunks.length, 3) };
    process.stderr.write(`${k.padEnd(12)} ${String(f.mb_per_s).padStart(7)} MB/s  ${String(f.us_per_token).padStart(7)} µs/token\n`);
    out[k === 'none' ? 'passthrough' : k] = f;
  });
  return out;
}
