/**
 * Every setting of `converge run`: its flag, its `CONVERGE_*` variable, its type, its default
 * and its help line. The flag parser, the environment reader, `--help` and the docs are all
 * generated from this one table.
 */

/** How a setting's text (flag or variable) is read. */
export type OptionKind = 'int' | 'number' | 'string' | 'boolean';

/** One setting. */
export interface OptionSpec {
  /** Key in config files and in the resolved config. */
  key: string;
  /** Long flag, without dashes. */
  flag: string;
  /** One-letter alias, if any. */
  short?: string;
  kind: OptionKind;
  /** Placeholder shown in help. */
  arg?: string;
  help: string;
  /** Default shown in help (the schema holds the real one). */
  defaultText?: string;
  /** Accepted range shown in help and the docs, as `1 … 512` (the schema enforces it). */
  range?: string;
  /** The value a bare flag stands for (`--ui` alone = `--ui 7357`); without it the flag needs a value. */
  bareValue?: string;
}

/** The settings of `converge run`, in help order. */
export const RUN_OPTIONS: readonly OptionSpec[] = [
  { key: 'config', flag: 'config', short: 'c', kind: 'string', arg: 'FILE', help: 'YAML (.yaml/.yml) or TOML (.toml) config file' },
  { key: 'agents', flag: 'agents', short: 'n', kind: 'int', arg: 'N', help: 'number of worker agents', defaultText: '4', range: '1 … 512' },
  {
    key: 'tasks',
    flag: 'tasks',
    short: 't',
    kind: 'int',
    arg: 'M',
    help: 'number of tasks the coordinator submits',
    defaultText: '200',
    range: '0 … 10,000,000',
  },
  {
    key: 'role',
    flag: 'role',
    kind: 'string',
    arg: 'ROLE',
    help: 'all | coordinator | worker (coordinator and workers in separate processes share --store and --transport)',
    defaultText: 'all',
  },
  {
    key: 'transport',
    flag: 'transport',
    kind: 'string',
    arg: 'KIND',
    help: 'local | tcp | ws (each agent on its own real socket) | nats://HOST:PORT[,nats://…] (one NATS connection per agent)',
    defaultText: 'local',
  },
  { key: 'host', flag: 'host', kind: 'string', arg: 'H', help: 'address the tcp/ws agents listen on', defaultText: '127.0.0.1' },
  { key: 'port', flag: 'port', kind: 'int', arg: 'P', help: 'first port for tcp/ws agents (0 = any free port)', defaultText: '0' },
  { key: 'poolId', flag: 'pool-id', kind: 'string', arg: 'ID', help: 'id of the task pool', defaultText: 'converge-main' },
  {
    key: 'store',
    flag: 'store',
    kind: 'string',
    arg: 'URL',
    help: "memory | file:PATH | postgres://… | redis://… | rediss://… | nats://… (pools, tasks and discovery, shared by every process; --role coordinator|worker use the engine's own task queue; nats://: JetStream tasks, needs --discovery-store)",
    defaultText: 'memory',
  },
  {
    key: 'storeNamespace',
    flag: 'store-namespace',
    kind: 'string',
    arg: 'NAME',
    help: 'PostgreSQL table converge_NAME, Redis prefix converge:NAME:, NATS subjects converge.NAME.* (default: from --pool-id)',
  },
  {
    key: 'minWorkers',
    flag: 'min-workers',
    kind: 'int',
    arg: 'N',
    help: 'coordinator: wait for N worker agents in discovery before submitting',
    defaultText: '1',
  },
  {
    key: 'discoveryStore',
    flag: 'discovery-store',
    kind: 'string',
    arg: 'WHERE',
    help: 'memory | PATH (a directory for discovery records) | postgres://… | redis://… (default: the --store)',
  },
  { key: 'assignment', flag: 'assignment', kind: 'string', arg: 'MODE', help: 'claim | auction | mixed (every 10th task auctioned)', defaultText: 'mixed' },
  { key: 'agent', flag: 'agent', kind: 'string', arg: 'MODULE', help: "module whose default export (or export 'Agent') is the worker Agent class" },
  { key: 'duration', flag: 'duration', kind: 'number', arg: 'SECONDS', help: 'keep submitting work for this long (0 = until SIGINT/SIGTERM)' },
  { key: 'claimTtlMs', flag: 'claim-ttl-ms', kind: 'int', arg: 'MS', help: 'task lease length', defaultText: '5000', range: '100 … 3,600,000' },
  { key: 'timeoutMs', flag: 'timeout-ms', kind: 'int', arg: 'MS', help: 'give up if the tasks are not all done by then', defaultText: '600000' },
  { key: 'json', flag: 'json', kind: 'boolean', help: 'print the summary as one JSON object on stdout' },
  { key: 'progress', flag: 'progress', kind: 'boolean', help: 'force the progress bar on/off (default: on when stderr is a TTY)' },
  { key: 'logLevel', flag: 'log-level', kind: 'string', arg: 'LEVEL', help: 'trace | debug | info | warn | error | fatal | silent', defaultText: 'warn' },
  {
    key: 'verbose',
    flag: 'verbose',
    short: 'v',
    kind: 'boolean',
    help: 'log decisions, outcomes and task state changes (debug level): pretty lines on a terminal, JSON lines otherwise',
  },
  {
    key: 'scenario',
    flag: 'scenario',
    kind: 'string',
    arg: 'NAME',
    help: 'market (every auction type) | negotiation | vote | delegation | llm (a local fake model server, no key) | chaos (crashes, a slow worker, a dropped connection, a wrong-key signer, hanging tools) | sum (the classic workload, and the default instead of market when --role is coordinator|worker or any of --agent, --record, --a2a, --duration, --window, --otlp, --assignment is given); see "Which workload runs" below',
    defaultText: 'market',
  },
  {
    key: 'metricsPort',
    flag: 'metrics-port',
    kind: 'int',
    arg: 'P',
    help: 'serve Prometheus metrics (/metrics) and the /healthz and /readyz probes on this port while running',
  },
  {
    key: 'window',
    flag: 'window',
    kind: 'int',
    arg: 'N',
    help: 'coordinator: most tasks in flight (submitted, not yet finished) at once; a finished task lets the next one in',
    defaultText: '1024',
    range: '1 … 1,000,000',
  },
  {
    key: 'a2a',
    flag: 'a2a',
    kind: 'int',
    arg: 'PORT',
    help: 'serve the pool as an A2A agent on 127.0.0.1:PORT (0 = any free port) and stay up until SIGINT/SIGTERM',
  },
  { key: 'a2aToken', flag: 'a2a-token', kind: 'string', arg: 'TOKEN', help: 'bearer token the A2A endpoint requires (default: none, open on 127.0.0.1)' },
  {
    key: 'otlp',
    flag: 'otlp',
    kind: 'string',
    arg: 'URL',
    help: 'export spans (decide, execute, each decision outcome; one trace per task from submit to report) to this OTLP/HTTP collector, e.g. http://127.0.0.1:4318',
  },
  {
    key: 'record',
    flag: 'record',
    kind: 'string',
    arg: 'FILE',
    help: "write the lossless NDJSON replay log (every accepted message and decide call) to FILE; re-drive it with 'converge replay FILE'",
  },
  {
    key: 'ui',
    flag: 'ui',
    kind: 'int',
    arg: '[PORT]',
    help: 'serve a live view of the network on http://127.0.0.1:PORT/ (0 = a free port; printed as "ui: URL" on stderr); the run then stays up after the work until interrupted',
    defaultText: 'off (bare: 7357)',
    bareValue: '7357',
  },
  {
    key: 'uiLinger',
    flag: 'ui-linger',
    kind: 'number',
    arg: 'SECONDS',
    help: 'with --ui: end this many seconds after the work is done instead of waiting for SIGINT/SIGTERM',
  },
];

/** `CONVERGE_POOL_ID` for `poolId`, etc. */
export function envName(spec: OptionSpec): string {
  return 'CONVERGE_' + spec.flag.replace(/-/g, '_').toUpperCase();
}
