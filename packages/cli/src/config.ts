import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parseArgs } from 'node:util';
import { parseDocument } from 'yaml';
import { parse as parseToml } from 'smol-toml';
import { z } from 'zod';
import { ConfigError } from '@converge/core';
import { RUN_OPTIONS, envName, type OptionSpec } from './options.js';
import { RUN_SCENARIO_NAMES, SCENARIO_HELP, SUM_ONLY_SETTINGS, defaultScenario } from './scenarios/names.js';

const transport = z.string().refine((t) => ['local', 'tcp', 'ws'].includes(t) || /^nats:\/\//.test(t), {
  message: 'expected local, tcp, ws or a nats:// URL',
});

/** The schema of a resolved `converge run` configuration. */
export const RunConfigSchema = z
  .object({
    agents: z.number().int().min(1).max(512).default(4),
    tasks: z.number().int().min(0).max(10_000_000).default(200),
    role: z.enum(['all', 'coordinator', 'worker']).default('all'),
    transport: transport.default('local'),
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(0),
    poolId: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[\w.:-]+$/, 'letters, digits, _ . : - only')
      .default('converge-main'),
    store: z
      .string()
      .regex(
        /^(memory|file:.+|postgres(ql)?:\/\/.+|rediss?:\/\/.+|nats:\/\/.+)$/,
        'expected memory, file:PATH, postgres://…, redis://…, rediss://… or nats://…',
      )
      .default('memory'),
    storeNamespace: z
      .string()
      .regex(/^[A-Za-z0-9_]{1,38}$/, '1-38 letters, digits or _')
      .optional(),
    minWorkers: z.number().int().min(0).max(100_000).default(1),
    discoveryStore: z.string().min(1).optional(),
    assignment: z.enum(['claim', 'auction', 'mixed']).default('mixed'),
    agent: z.string().min(1).optional(),
    duration: z.number().min(0).optional(),
    claimTtlMs: z.number().int().min(100).max(3_600_000).default(5_000),
    timeoutMs: z.number().int().min(1).default(600_000),
    json: z.boolean().default(false),
    progress: z.boolean().optional(),
    logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('warn'),
    verbose: z.boolean().default(false),
    metricsPort: z.number().int().min(0).max(65535).optional(),
    a2a: z.number().int().min(0).max(65535).optional(),
    a2aToken: z.string().min(16, 'at least 16 characters').optional(),
    /** Unset means the default `resolveConfig` applies (see `defaultScenario`); it always sets one. */
    scenario: z.enum(RUN_SCENARIO_NAMES).optional(),
    otlp: z
      .string()
      .regex(/^https?:\/\/.+/, 'expected an http:// or https:// URL')
      .optional(),
    record: z.string().min(1).optional(),
    window: z.number().int().min(1).max(1_000_000).default(1024),
    ui: z.number().int().min(0).max(65535).optional(),
    uiLinger: z.number().min(0).optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.uiLinger !== undefined && c.ui === undefined) ctx.addIssue({ code: 'custom', path: ['uiLinger'], message: '--ui-linger needs --ui' });
    if (c.ui !== undefined && c.role !== 'all') ctx.addIssue({ code: 'custom', path: ['ui'], message: `--ui is only for --role all` });
    if (c.a2a === undefined && c.a2aToken !== undefined) ctx.addIssue({ code: 'custom', path: ['a2aToken'], message: '--a2a-token needs --a2a' });
    if (c.role !== 'all' && c.a2a !== undefined) ctx.addIssue({ code: 'custom', path: ['a2a'], message: '--a2a is only for --role all' });
    const natsStore = /^nats:\/\//.test(c.store);
    if (natsStore && c.role === 'all')
      ctx.addIssue({ code: 'custom', path: ['store'], message: '--store nats://… (a JetStream task queue) is for --role coordinator|worker' });
    else if (natsStore && (c.discoveryStore === undefined || c.discoveryStore === 'memory')) {
      ctx.addIssue({
        code: 'custom',
        path: ['discoveryStore'],
        message:
          '--store nats://… keeps the tasks only: give --discovery-store (postgres://…, redis://… or a directory every process shares) for pools, discovery and the done record',
      });
    }
    if (c.role === 'all') return;
    // Separate processes share work through the store and talk through the transport.
    if (c.store === 'memory')
      ctx.addIssue({
        code: 'custom',
        path: ['store'],
        message: `--role ${c.role} needs a store shared by every process (file:PATH, postgres://… or redis://…)`,
      });
    else if (c.discoveryStore === 'memory')
      ctx.addIssue({ code: 'custom', path: ['discoveryStore'], message: `--role ${c.role} needs discovery in a shared store` });
    else if (!/^nats:\/\//.test(c.transport) && c.transport !== 'tcp')
      ctx.addIssue({ code: 'custom', path: ['transport'], message: `--role ${c.role} needs a transport between processes (nats://… or tcp)` });
    else if (c.duration !== undefined) ctx.addIssue({ code: 'custom', path: ['duration'], message: `--duration is only for --role all` });
    else if (c.scenario !== undefined && c.scenario !== 'sum')
      ctx.addIssue({
        code: 'custom',
        path: ['scenario'],
        message: `--scenario is only for --role all (a scenario runs in one process; --role ${c.role} runs --scenario sum)`,
      });
    else if (c.record !== undefined)
      ctx.addIssue({ code: 'custom', path: ['record'], message: `--record is only for --role all (a replay needs every agent of the run)` });
  });

/** A resolved, validated configuration. */
export type RunConfig = z.infer<typeof RunConfigSchema>;

type Raw = Record<string, unknown>;

function fromText(spec: OptionSpec, text: string, source: string): unknown {
  if (spec.kind === 'string') return text;
  if (spec.kind === 'boolean') {
    if (/^(1|true|yes|on)$/i.test(text)) return true;
    if (/^(0|false|no|off)$/i.test(text)) return false;
    throw new ConfigError(`${source}: expected true or false, got ${JSON.stringify(text)}`, { key: spec.key });
  }
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || (spec.kind === 'int' && !Number.isInteger(n))) {
    throw new ConfigError(`${source}: expected ${spec.kind === 'int' ? 'an integer' : 'a number'}, got ${JSON.stringify(text)}`, { key: spec.key });
  }
  return n;
}

/** Edit distance of two short strings (for "did you mean"). */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

/** The known long flag closest to `flag` (`--agnets` → `--agents`), if one is close enough. */
export function closestFlag(flag: string): string | undefined {
  const name = flag.replace(/^-+/, '').split('=')[0]!;
  const known = ['help', ...RUN_OPTIONS.flatMap((s) => (s.kind === 'boolean' ? [s.flag, `no-${s.flag}`] : [s.flag]))];
  let best: { flag: string; d: number } | undefined;
  for (const k of known) {
    const d = distance(name, k);
    if (!best || d < best.d) best = { flag: k, d };
  }
  return best && best.d <= Math.max(2, Math.floor(name.length / 3)) ? `--${best.flag}` : undefined;
}

/** parseArgs' error as the CLI's own message, pointing to --help (and to the closest flag). */
function flagError(err: Error & { code?: string }): ConfigError {
  const help = "run 'converge run --help' for the options";
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const flag = /'([^']+)'/.exec(err.message)?.[1] ?? '';
    const near = closestFlag(flag);
    return new ConfigError(`unknown option ${flag}${near ? ` (did you mean ${near}?)` : ''}; ${help}`, { cause: err });
  }
  return new ConfigError(`${err.message.split('\n')[0]}; ${help}`, { cause: err });
}

/**
 * Joins a value option with a following negative number (`-t -5` → `--tasks=-5`), which
 * parseArgs would otherwise take for a flag; the value then fails validation with a message
 * that says what is wrong ("--tasks must be at least 0").
 */
function joinNegativeValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const spec = RUN_OPTIONS.find((s) => s.kind !== 'boolean' && (a === `--${s.flag}` || a === `-${s.short}`));
    const next = argv[i + 1];
    // A flag with an optional value, given bare (last, or followed by another flag).
    if (spec?.bareValue !== undefined && (next === undefined || (next.startsWith('-') && !/^-\.?\d/.test(next)))) {
      out.push(`--${spec.flag}=${spec.bareValue}`);
      continue;
    }
    if (spec && next !== undefined && /^-\.?\d/.test(next)) {
      out.push(`--${spec.flag}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

/** Reads flags (`process.argv` after `run`). Unknown flags are a `ConfigError`. */
export function readFlags(argv: string[]): { values: Raw; help: boolean } {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = { help: { type: 'boolean', short: 'h' } };
  for (const s of RUN_OPTIONS) {
    options[s.flag] = { type: s.kind === 'boolean' ? 'boolean' : 'string', ...(s.short ? { short: s.short } : {}) };
    if (s.kind === 'boolean') options[`no-${s.flag}`] = { type: 'boolean' };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: joinNegativeValues(argv), options, allowPositionals: false, strict: true });
  } catch (err) {
    throw flagError(err as Error);
  }
  const values: Raw = {};
  for (const s of RUN_OPTIONS) {
    const v = parsed.values[s.flag];
    if (v !== undefined) values[s.key] = s.kind === 'boolean' ? v : fromText(s, v as string, `--${s.flag}`);
    if (s.kind === 'boolean' && parsed.values[`no-${s.flag}`]) values[s.key] = false;
  }
  return { values, help: parsed.values.help === true };
}

/** Reads `CONVERGE_*` variables. */
export function readEnv(env: NodeJS.ProcessEnv): Raw {
  const values: Raw = {};
  for (const s of RUN_OPTIONS) {
    const text = env[envName(s)];
    if (text !== undefined && text !== '') values[s.key] = fromText(s, text, envName(s));
  }
  return values;
}

/**
 * Parses YAML, treating the parser's warnings (an unresolved tag, say) as errors: in a config
 * file they are mistakes, and the library would otherwise print them to the process.
 */
function parseYamlStrict(text: string): unknown {
  const doc = parseDocument(text, { logLevel: 'silent' });
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem) throw problem;
  return doc.toJS();
}

/** Reads a YAML or TOML config file; keys are the camelCase setting names (or the flag names). */
export async function readConfigFile(path: string): Promise<Raw> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`, { key: 'config', cause: err });
  }
  let data: unknown;
  try {
    data = ['.toml'].includes(extname(path)) ? parseToml(text) : parseYamlStrict(text);
  } catch (err) {
    throw new ConfigError(`config file ${path} is not valid ${extname(path) === '.toml' ? 'TOML' : 'YAML'}: ${(err as Error).message}`, {
      key: 'config',
      cause: err,
    });
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) throw new ConfigError(`config file ${path} must hold a map of settings`, { key: 'config' });
  const out: Raw = {};
  for (const [k, v] of Object.entries(data as Raw)) {
    const spec = RUN_OPTIONS.find((s) => s.key === k || s.flag === k);
    if (!spec || spec.key === 'config') throw new ConfigError(`${path}: unknown setting ${JSON.stringify(k)}`, { key: k });
    const label = `${path}: ${k}`;
    // YAML 1.2 reads `yes`/`on` as text; accept for booleans what the variables accept.
    if (spec.kind === 'boolean' && typeof v === 'string') out[spec.key] = fromText(spec, v, label);
    else out[spec.key] = v instanceof Date ? v.toISOString() : typeof v === 'bigint' ? Number(v) : v;
  }
  return out;
}

/**
 * Resolves the configuration: flags > environment > file > defaults, validated. Throws
 * `ConfigError` naming the key and what was expected.
 */
export async function resolveConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ config: RunConfig; help: boolean }> {
  const flags = readFlags(argv);
  if (flags.help) return { config: RunConfigSchema.parse({}), help: true };
  const fromEnv = readEnv(env);
  const file = (flags.values.config ?? fromEnv.config) as string | undefined;
  const fromFile = file ? await readConfigFile(file) : {};
  const merged: Raw = { ...fromFile, ...fromEnv, ...flags.values };
  delete merged.config;
  // Name the setting as the user wrote it: the flag, the variable, or the file and its key.
  const labelOf = (key: string): string => {
    const spec = RUN_OPTIONS.find((s) => s.key === key);
    return !spec
      ? key || 'config'
      : key in flags.values
        ? `--${spec.flag}`
        : key in fromEnv
          ? envName(spec)
          : key in fromFile
            ? `${file}: ${key}`
            : `--${spec.flag}`;
  };
  // `market` unless a sum-only setting or a distributed role is given (before the defaults).
  if (merged.scenario === undefined) merged.scenario = defaultScenario(merged);
  const result = RunConfigSchema.safeParse(merged);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const key = issue.path.join('.') || (issue.code === 'unrecognized_keys' ? ((issue as { keys?: string[] }).keys?.join(', ') ?? '') : '');
    throw new ConfigError(describeIssue(issue, labelOf(key), merged[key]), { key });
  }
  const scenario = result.data.scenario;
  const sumOnly = SUM_ONLY_SETTINGS.find((k) => merged[k] !== undefined);
  if (scenario !== undefined && scenario !== 'sum' && sumOnly !== undefined) {
    throw new ConfigError(
      `${labelOf(sumOnly)} works on the sum workload only: --scenario ${scenario} ${SUM_ONLY_REASON[sumOnly]} (drop ${labelOf(sumOnly)}, or use --scenario sum)`,
      { key: sumOnly },
    );
  }
  return { config: result.data, help: false };
}

/** Why a scenario other than `sum` refuses each sum-only setting. */
const SUM_ONLY_REASON: Record<(typeof SUM_ONLY_SETTINGS)[number], string> = {
  agent: 'runs its own agents, not an --agent module',
  record: 'cannot be recorded for replay',
  a2a: 'is not served over A2A',
  duration: 'runs -t tasks, not for a duration',
  window: 'has no submission window',
  otlp: 'exports no spans',
  assignment: 'assigns its tasks its own way',
};

const EXPECTED: Record<string, string> = { number: 'a number', int: 'an integer', boolean: 'true or false', string: 'text' };

/** A schema issue in the CLI's words: "--agents must be at least 1 (got 0)". */
function describeIssue(issue: z.core.$ZodIssue, label: string, value: unknown): string {
  const got = ` (got ${JSON.stringify(value)})`;
  switch (issue.code) {
    case 'too_small':
      return issue.origin === 'string' ? `${label} must not be empty` : `${label} must be at least ${issue.minimum}${got}`;
    case 'too_big':
      return issue.origin === 'string' ? `${label} must be at most ${issue.maximum} characters` : `${label} must be at most ${issue.maximum}${got}`;
    case 'invalid_type':
      return `${label} must be ${EXPECTED[issue.expected] ?? issue.expected}${got}`;
    case 'invalid_value':
      return `${label} must be one of ${issue.values.map(String).join(', ')}${got}`;
    default:
      // The cross-setting rules (superRefine) already name their flags ("--role worker needs …").
      return issue.message.startsWith('--') ? issue.message : `${label}: ${issue.message}${got}`;
  }
}

/** The `--help` text, generated from the settings table. */
export function helpText(): string {
  const lines = [
    'Usage: converge run [options]',
    '',
    'Runs a multi-agent workload: agents register in discovery, join a pool, win tasks by',
    'claim or auction, execute and report them; the results are checked. By default the market',
    'scenario (every task auctioned, workers with different capabilities and prices; per-agent',
    'results); the classic sum workload with --scenario sum, --role coordinator|worker or any of',
    '--agent, --record, --a2a, --duration, --window, --otlp, --assignment (see "Which workload',
    'runs" below). Exits 0 when every task completed with the right result (and a scenario\'s',
    'checks hold), 1 if any was lost or wrong, 2 on invalid config.',
    '',
    'Across processes and machines: one `--role coordinator` and any number of `--role worker`',
    'processes with the same --store (postgres://, redis:// or file:), --transport (nats:// or',
    'tcp), --pool-id and --store-namespace. The coordinator submits and checks the tasks; workers',
    'find it in discovery, claim and execute, and exit when it writes its done record.',
    '',
    'Options (precedence: flags > CONVERGE_* environment > config file > defaults):',
  ];
  for (const s of RUN_OPTIONS) {
    const flag = `${s.short ? `-${s.short}, ` : '    '}--${s.flag}${s.arg ? ` ${s.arg}` : ''}`;
    const def = s.defaultText ? ` (default ${s.defaultText})` : '';
    const range = s.range ? ` (${s.range})` : '';
    lines.push(`  ${flag.padEnd(30)} ${s.help}${range}${def}`, `  ${''.padEnd(30)} env ${envName(s)}${s.key === 'config' ? '' : `, file key ${s.key}`}`);
  }
  lines.push('  -h, --help                     show this help', '', ...SCENARIO_HELP, '');
  lines.push("A run recorded with --record FILE is re-driven by 'converge replay FILE' (converge replay --help).", '');
  return lines.join('\n');
}
