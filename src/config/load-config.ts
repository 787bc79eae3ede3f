import { accessSync, constants, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { NodeIdentity, parseClusterKey } from '@drover/swim';
import { parseCidr } from '../egress/address-policy';
import { OPTION_SPECS, type GatewayConfig, type OptionSpec } from './options';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Raw = Record<string, unknown>;

/**
 * Merges defaults < config file < environment < command line, then validates every setting and
 * reports all problems at once (before Nest starts), like an operator expects.
 */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const problems: string[] = [];
  const fromArgs = parseArgv(argv, problems);
  const fromEnv: Raw = {};
  for (const s of OPTION_SPECS) if (env[s.env] !== undefined && env[s.env] !== '') fromEnv[s.key] = env[s.env];
  const configPath = (fromArgs.config ?? fromEnv.config) as string | undefined;
  const fromFile = configPath ? readConfigFile(configPath, problems) : {};

  const merged: Raw = {};
  const explicit = new Set<string>();
  for (const s of OPTION_SPECS) {
    const fromCli = fromArgs[s.key] ?? fromEnv[s.key];
    if (fromCli !== undefined || (fromFile[s.key] !== undefined && fromFile[s.key] !== null)) explicit.add(s.key);
    const value = fromCli ?? fromFile[s.key] ?? s.default;
    if (value === undefined) continue;
    // A value from the file is named by its file and key, so the operator knows where to fix it.
    const where = fromCli === undefined && fromFile[s.key] !== undefined && fromFile[s.key] !== null ? `config file ${configPath}: key '${s.key}'` : `--${s.flag} (${s.env})`;
    const coerced = coerce(s, value, problems, where);
    if (coerced !== undefined) merged[s.key] = coerced;
  }
  for (const key of Object.keys(fromFile)) {
    if (OPTION_SPECS.some((s) => s.key === key)) continue;
    const meant = OPTION_SPECS.find((s) => s.flag === key || s.env === key || s.key.toLowerCase() === key.toLowerCase());
    problems.push(`config file ${configPath}: unknown key '${key}'${meant ? ` (did you mean '${meant.key}'?)` : ''}`);
  }
  checkMeshTls(merged, problems);
  checkCidrs(merged, problems);
  checkMesh(merged, explicit, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return merged as unknown as GatewayConfig;
}

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]']);

/** Mesh settings that only fail together; caught here so the node never starts half-configured. */
function checkMesh(merged: Raw, explicit: ReadonlySet<string>, problems: string[]): void {
  // A headless-service name means DNS discovery (unless another discovery was chosen explicitly).
  if (merged.meshDns !== undefined && merged.meshDiscovery === 'static') merged.meshDiscovery = 'dns';
  if (!merged.mesh) {
    // Mesh flags do not imply --mesh: a node given seeds or a key but not --mesh would silently run
    // alone, which is worse than not starting (the operator believes it is meshed).
    const stray = OPTION_SPECS.filter((s) => s.key !== 'mesh' && s.key.startsWith('mesh') && explicit.has(s.key));
    if (stray.length > 0) problems.push(`${stray.map((s) => `--${s.flag}`).join(', ')} given without --mesh (DROVER_MESH): add --mesh to join a mesh, or drop the mesh settings`);
    return;
  }
  if (merged.meshDiscovery === 'dns' && merged.meshDns === undefined) problems.push('--mesh-discovery dns needs --mesh-dns NAME (the headless service)');
  if (merged.meshDiscovery === 'hyperswarm' && merged.meshKey === undefined) problems.push('--mesh-discovery hyperswarm needs --mesh-key (the topic is derived from it)');
  const advertise = String(merged.meshAdvertise ?? merged.meshBind ?? '');
  if (WILDCARD_HOSTS.has(advertise)) problems.push(`--mesh-bind ${String(merged.meshBind)} is a wildcard: set --mesh-advertise to an address peers can reach`);
  checkIdentity(merged, problems);
  const accepted = (merged.meshKeyAccept as string[] | undefined) ?? [];
  if (accepted.length > 0 && merged.meshKey === undefined) problems.push('--mesh-key-accept needs --mesh-key (the key this node sends with)');
  accepted.forEach((k, i) => {
    const parsed = parseClusterKey(k);
    if (!parsed.ok) problems.push(`--mesh-key-accept (DROVER_MESH_KEY_ACCEPT) item ${i + 1} ${parsed.problem}`);
  });
  if (merged.meshKey !== undefined) {
    const parsed = parseClusterKey(String(merged.meshKey));
    if (!parsed.ok) problems.push(`--mesh-key (DROVER_MESH_KEY) ${parsed.problem}`);
  } else if (!isLoopbackHost(String(merged.meshBind ?? '')) && !merged.meshInsecure) {
    problems.push(
      `--mesh on ${String(merged.meshBind)} (not loopback) needs --mesh-key: without it anyone who reaches the mesh port can join and forge workers, policies, keys and load. ` +
        '`npm run -s keygen` prints a key (give every node the same one); --mesh-insecure runs an open mesh anyway',
    );
  }
}

/** Node identities come as a pair (authority + credential), and the credential must be for this node. */
function checkIdentity(merged: Raw, problems: string[]): void {
  const authority = merged.meshIdentityAuthority as string | undefined;
  const credential = merged.meshIdentity as string | undefined;
  if (authority === undefined && credential === undefined) return;
  if (authority === undefined || credential === undefined) {
    problems.push('node identities need --mesh-identity-authority and --mesh-identity together (`npm run -s keygen identity-authority`, then `keygen identity NAME` per node)');
    return;
  }
  if (merged.meshKey === undefined) problems.push('--mesh-identity needs --mesh-key (identities sign; the cluster key still seals)');
  let name: string;
  try {
    name = NodeIdentity.fromCredential(credential, authority).name;
  } catch (err) {
    problems.push(`--mesh-identity (DROVER_MESH_IDENTITY): ${(err as Error).message}`);
    return;
  }
  // The node is named by its identity unless --node-name says otherwise, and then they must agree.
  if (merged.nodeName === undefined) merged.nodeName = name;
  else if (merged.nodeName !== name) problems.push(`--mesh-identity is issued for '${name}', but --node-name is '${String(merged.nodeName)}'`);
}

/** Only this host can reach a socket bound to a loopback address. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || /^::ffff:127\./.test(h);
}

/** Egress allow-lists must parse now, not at the first image or worker. */
function checkCidrs(merged: Raw, problems: string[]): void {
  for (const [key, flag] of [['egressAllowWorkers', '--egress-allow-workers'], ['egressAllowImages', '--egress-allow-images']] as const) {
    for (const entry of (merged[key] as string[] | undefined) ?? []) {
      try {
        parseCidr(entry);
      } catch (err) {
        problems.push(`${flag}: ${(err as Error).message}`);
      }
    }
  }
}

/** Mesh mTLS needs all three PEM files, and each must be readable, or the node would fail later at join. */
function checkMeshTls(merged: Raw, problems: string[]): void {
  const files = { meshTlsCa: '--mesh-tls-ca', meshTlsCert: '--mesh-tls-cert', meshTlsKey: '--mesh-tls-key' } as const;
  const given = Object.keys(files).filter((k) => merged[k] !== undefined) as (keyof typeof files)[];
  if (given.length === 0) return;
  if (given.length < 3) {
    problems.push(`mesh TLS needs ${Object.values(files).join(', ')} together (missing ${Object.entries(files).filter(([k]) => !given.includes(k as keyof typeof files)).map(([, f]) => f).join(', ')})`);
  }
  for (const k of given) {
    try {
      accessSync(String(merged[k]), constants.R_OK);
    } catch {
      problems.push(`${files[k]}: cannot read '${String(merged[k])}'`);
    }
  }
}

function parseArgv(argv: string[], problems: string[]): Raw {
  const out: Raw = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      problems.push(`unexpected argument '${arg}'`);
      continue;
    }
    const eq = arg.indexOf('=');
    let name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    let negated = false;
    if (name.startsWith('no-')) {
      negated = true;
      name = name.slice(3);
    }
    const s = OPTION_SPECS.find((o) => o.flag === name);
    if (!s) {
      problems.push(`unknown flag --${name} (see --help)`);
      continue;
    }
    if (s.type === 'bool' && eq < 0) {
      out[s.key] = !negated;
      continue;
    }
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) {
      problems.push(`flag --${name} needs a value`);
      continue;
    }
    // A map flag may repeat: --model-config a=/x --model-config b=/y.
    out[s.key] = s.type === 'map' && out[s.key] !== undefined ? `${String(out[s.key])},${value}` : value;
  }
  return out;
}

function readConfigFile(path: string, problems: string[]): Raw {
  try {
    const text = readFileSync(path, 'utf8');
    const parsed = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
    if (parsed === null || parsed === undefined) return {}; // an empty (or all-comments) YAML file sets nothing
    if (typeof parsed !== 'object' || Array.isArray(parsed)) {
      problems.push(`config file ${path}: must hold an object of settings`);
      return {};
    }
    return parsed as Raw;
  } catch (err) {
    problems.push(`config file ${path}: ${(err as Error).message}`);
    return {};
  }
}

function coerce(s: OptionSpec, value: unknown, problems: string[], where: string): unknown {
  if (s.type === 'map') return coerceMap(value, problems, where);
  // Only a list takes an array (or a comma-separated string); no option takes an object.
  if (typeof value === 'object' && value !== null && (s.type !== 'list' || !Array.isArray(value))) {
    problems.push(`${where}: expected ${s.type === 'list' ? 'a list' : `a single ${s.type === 'bool' ? 'boolean' : s.type === 'string' ? 'string' : 'number'}`}, got ${Array.isArray(value) ? 'a list' : 'an object'}`);
    return undefined;
  }
  switch (s.type) {
    case 'string': {
      const text = String(value);
      if (s.choices && !s.choices.includes(text)) {
        problems.push(`${where}: '${text}' is not one of ${s.choices.join(', ')}`);
        return undefined;
      }
      return text;
    }
    case 'bool': {
      if (typeof value === 'boolean') return value;
      const text = String(value).toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(text)) return true;
      if (['0', 'false', 'no', 'off'].includes(text)) return false;
      problems.push(`${where}: '${value}' is not a boolean`);
      return undefined;
    }
    case 'list': {
      if (Array.isArray(value) && value.some((x) => typeof x === 'object' && x !== null)) {
        problems.push(`${where}: every item must be a string`);
        return undefined;
      }
      const items = Array.isArray(value) ? value.map(String) : String(value).split(',');
      return items.map((x) => x.trim()).filter((x) => x.length > 0);
    }
    case 'int':
    case 'number': {
      const n = typeof value === 'number' ? value : Number(String(value).trim());
      if (!Number.isFinite(n) || (s.type === 'int' && !Number.isInteger(n)) || String(value).trim() === '') {
        problems.push(`${where}: '${value}' is not ${s.type === 'int' ? 'an integer' : 'a number'}`);
        return undefined;
      }
      if (s.min !== undefined && n < s.min) problems.push(`${where}: ${n} is below the minimum ${s.min}`);
      if (s.max !== undefined && n > s.max) problems.push(`${where}: ${n} is above the maximum ${s.max}`);
      return n;
    }
  }
}

/** `name=value` pairs (comma-separated text, or a list of them) or, from a file, an object of strings. */
function coerceMap(value: unknown, problems: string[], where: string): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) {
      if (typeof v !== 'string' || v.length === 0) problems.push(`${where}: '${k}' must map to a non-empty string`);
      else out[k] = v;
    }
    return out;
  }
  const items = Array.isArray(value) ? value.map(String) : String(value).split(',');
  for (const item of items.map((x) => x.trim()).filter((x) => x.length > 0)) {
    const eq = item.indexOf('=');
    if (eq <= 0 || eq === item.length - 1) {
      problems.push(`${where}: '${item}' is not name=value`);
      continue;
    }
    out[item.slice(0, eq).trim()] = item.slice(eq + 1).trim();
  }
  return out;
}

export function helpText(program: string): string {
  const lines = [`usage: ${program} [options]`, '', 'Every option can also be set by its environment variable or a config file key.', ''];
  for (const s of OPTION_SPECS) {
    const def = s.default === undefined || (typeof s.default === 'object' && !Array.isArray(s.default)) ? '' : ` (default: ${Array.isArray(s.default) ? s.default.join(',') || 'none' : s.default})`;
    const choices = s.choices ? ` [${s.choices.join('|')}]` : '';
    lines.push(`  --${s.flag} <${s.type}>${choices}`);
    lines.push(`      ${s.help}${def}  env: ${s.env}, file: ${s.key}`);
  }
  return lines.join('\n');
}
