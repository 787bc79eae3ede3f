import { DroverError } from '@drover/runtime';
import type { SamplingOptions } from '@drover/worker-proto';

/** The engine constraint of a request: at most one of these fields is set. */
export type Constraint = Pick<SamplingOptions, 'jsonSchema' | 'regex' | 'ebnf' | 'structuralTag'>;

/** Where a constraint came from, to name the field in a 400. */
interface Source {
  param: string;
  constraint: Constraint;
}

const JSON_OBJECT = JSON.stringify({ type: 'object' });

function schemaText(schema: unknown, param: string): string {
  if (typeof schema === 'boolean' || (typeof schema === 'object' && schema !== null && !Array.isArray(schema))) return JSON.stringify(schema);
  throw new DroverError('invalid_request', 'A JSON schema must be an object (or a boolean).', { param });
}

/**
 * Chat `response_format` → constraint. `json_object` admits any JSON object; `json_schema` its
 * `schema`; SGLang's `structural_tag` format passes through; `text` is no constraint.
 */
export function responseFormatConstraint(rf: Record<string, any> | null | undefined, param = 'response_format'): Source | undefined {
  if (!rf || rf.type === 'text') return undefined;
  if (rf.type === 'json_object') return { param, constraint: { jsonSchema: JSON_OBJECT } };
  if (rf.type === 'json_schema') {
    // Chat nests the schema under json_schema; Responses' text.format carries it directly.
    const holder = rf.json_schema ?? rf;
    if (holder.schema === undefined) throw new DroverError('invalid_request', "response_format json_schema needs a 'schema'.", { param: `${param}.json_schema.schema` });
    return { param, constraint: { jsonSchema: schemaText(holder.schema, `${param}.json_schema.schema`) } };
  }
  if (rf.type === 'structural_tag') {
    const { type: _type, ...tag } = rf;
    return { param, constraint: { structuralTag: JSON.stringify(Array.isArray(tag.structures) ? tag : rf) } };
  }
  throw new DroverError('invalid_request', `Unsupported response_format type '${String(rf.type)}'.`, { param: `${param}.type` });
}

/** The engine-style extensions on the request body: `regex`, `ebnf` (or `grammar`), `json_schema`. */
export function extensionConstraints(body: Record<string, unknown>): Source[] {
  const out: Source[] = [];
  const text = (key: string): string | undefined => {
    const v = body[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string' || v.length === 0) throw new DroverError('invalid_request', `'${key}' must be a non-empty string.`, { param: key });
    return v;
  };
  const regex = text('regex');
  if (regex !== undefined) out.push({ param: 'regex', constraint: { regex } });
  for (const key of ['ebnf', 'grammar']) {
    const g = text(key);
    if (g !== undefined) out.push({ param: key, constraint: { ebnf: g } });
  }
  if (body.json_schema !== undefined && body.json_schema !== null) out.push({ param: 'json_schema', constraint: { jsonSchema: typeof body.json_schema === 'string' ? body.json_schema : schemaText(body.json_schema, 'json_schema') } });
  return out;
}

/**
 * One constraint per request (the engines' `constraint` is a oneof): two at once cannot be sent
 * and are a 400, never one silently dropped.
 */
export function singleConstraint(sources: (Source | undefined)[]): Constraint {
  const given = sources.filter((s): s is Source => s !== undefined);
  if (given.length > 1) {
    throw new DroverError('invalid_request', `Only one structured-output constraint per request: got ${given.map((s) => `'${s.param}'`).join(' and ')}.`, { param: given[1].param });
  }
  return given[0]?.constraint ?? {};
}
