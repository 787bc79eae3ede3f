/**
 * The structured-output constraint a Generate request carries (one per request: the proto's
 * `constraint` oneof), checked the way an engine's grammar backend would refuse it: a malformed
 * one is INVALID_ARGUMENT. For a JSON schema the mock also answers with a value that satisfies it,
 * so constrained requests get constrained output.
 */
export type MockConstraint =
  | { kind: 'json_schema'; schema: unknown }
  | { kind: 'json_object' }
  | { kind: 'regex'; pattern: string }
  | { kind: 'grammar'; grammar: string }
  | { kind: 'structural_tag'; tag: unknown }
  | { kind: 'choice'; choices: string[] };

export class ConstraintError extends Error {}

/** Reads and validates `sampling_params.constraint` (undefined when the request has none). */
export function readConstraint(sp: Record<string, any>): MockConstraint | undefined {
  switch (sp.constraint) {
    case undefined:
    case null:
    case '':
      return undefined;
    case 'json_schema': {
      const schema = parseJson(sp.json_schema, 'json_schema');
      checkSchema(schema, 'json_schema');
      return { kind: 'json_schema', schema };
    }
    case 'json_object':
      return { kind: 'json_object' };
    case 'regex': {
      try {
        // Engines take Python syntax; named groups are the one common difference from JavaScript.
        new RegExp(String(sp.regex).replace(/\(\?P</g, '(?<'), 'u');
      } catch (err) {
        throw new ConstraintError(`invalid regex: ${(err as Error).message}`);
      }
      if (String(sp.regex).length === 0) throw new ConstraintError('invalid regex: empty');
      return { kind: 'regex', pattern: sp.regex };
    }
    case 'ebnf_grammar':
    case 'grammar': {
      const g = String(sp[sp.constraint] ?? '');
      if (!/^\s*root\s*::=/m.test(g)) throw new ConstraintError(`invalid ${sp.constraint}: an EBNF grammar needs a 'root ::= ...' rule`);
      return { kind: 'grammar', grammar: g };
    }
    case 'structural_tag': {
      const tag = parseJson(sp.structural_tag, 'structural_tag') as Record<string, any>;
      const legacy = Array.isArray(tag?.structures) && Array.isArray(tag?.triggers);
      const current = tag?.type === 'structural_tag' && typeof tag.format === 'object' && tag.format !== null;
      if (!legacy && !current) throw new ConstraintError('invalid structural_tag: expected {"type":"structural_tag","format":{...}} or {"structures":[...],"triggers":[...]}');
      if (legacy) for (const s of tag.structures) if (typeof s?.begin !== 'string' || typeof s?.end !== 'string') throw new ConstraintError('invalid structural_tag: every structure needs begin and end strings');
      return { kind: 'structural_tag', tag };
    }
    case 'choice': {
      const choices: unknown = sp.choice?.choices;
      if (!Array.isArray(choices) || choices.length === 0) throw new ConstraintError('invalid choice: needs at least one choice');
      return { kind: 'choice', choices: choices.map(String) };
    }
    default:
      throw new ConstraintError(`unknown constraint '${String(sp.constraint)}'`);
  }
}

function parseJson(text: unknown, field: string): unknown {
  try {
    return JSON.parse(String(text));
  } catch (err) {
    throw new ConstraintError(`invalid ${field}: not JSON (${(err as Error).message})`);
  }
}

const TYPES = new Set(['object', 'array', 'string', 'number', 'integer', 'boolean', 'null']);

function checkSchema(schema: unknown, where: string): void {
  if (typeof schema === 'boolean') return;
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) throw new ConstraintError(`invalid ${where}: a JSON schema is an object or a boolean`);
  const s = schema as Record<string, unknown>;
  const types = s.type === undefined ? [] : Array.isArray(s.type) ? s.type : [s.type];
  for (const t of types) if (typeof t !== 'string' || !TYPES.has(t)) throw new ConstraintError(`invalid ${where}: unknown type ${JSON.stringify(t)}`);
  if (s.properties !== undefined) {
    if (typeof s.properties !== 'object' || s.properties === null) throw new ConstraintError(`invalid ${where}.properties: not an object`);
    for (const [k, v] of Object.entries(s.properties)) checkSchema(v, `${where}.properties.${k}`);
  }
  if (s.items !== undefined && !Array.isArray(s.items)) checkSchema(s.items, `${where}.items`);
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
    if (s[key] === undefined) continue;
    if (!Array.isArray(s[key]) || (s[key] as unknown[]).length === 0) throw new ConstraintError(`invalid ${where}.${key}: a non-empty array`);
    (s[key] as unknown[]).forEach((x, i) => checkSchema(x, `${where}.${key}[${i}]`));
  }
}

/** A small value the schema admits (required properties only, first of every choice). */
export function sampleFor(schema: unknown, defs: Record<string, unknown> = {}, depth = 0): unknown {
  if (depth > 16 || typeof schema !== 'object' || schema === null) return {};
  const s = schema as Record<string, any>;
  const allDefs = { ...defs, ...(s.$defs ?? {}), ...(s.definitions ?? {}) };
  if (typeof s.$ref === 'string') return sampleFor(allDefs[s.$ref.replace(/^#\/(\$defs|definitions)\//, '')], allDefs, depth + 1);
  if ('const' in s) return s.const;
  if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum[0];
  const choice = s.anyOf ?? s.oneOf;
  if (Array.isArray(choice) && choice.length > 0) return sampleFor(choice[0], allDefs, depth + 1);
  const type = Array.isArray(s.type) ? s.type[0] : (s.type ?? (s.properties ? 'object' : s.items ? 'array' : 'object'));
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const k of (s.required as string[] | undefined) ?? []) out[k] = sampleFor(s.properties?.[k] ?? {}, allDefs, depth + 1);
      return out;
    }
    case 'array':
      return Array.from({ length: Math.max(0, Number(s.minItems ?? 0)) }, () => sampleFor(s.items ?? {}, allDefs, depth + 1));
    case 'string':
      return 'x'.repeat(Math.max(0, Number(s.minLength ?? 0)));
    case 'integer':
    case 'number':
      return typeof s.minimum === 'number' ? s.minimum : 0;
    case 'boolean':
      return false;
    default:
      return null;
  }
}
