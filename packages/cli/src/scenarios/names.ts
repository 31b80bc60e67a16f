/** The names of the built-in scenarios, in help order (`market` first: the one to start with). */
export const SCENARIO_NAMES = ['market', 'negotiation', 'vote', 'delegation', 'llm', 'chaos'] as const;

/** A built-in scenario's name. */
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

/**
 * The values of `--scenario`: the built-in scenarios and `sum`, the classic workload (sums of 8
 * integers, every 10th auctioned). `sum` is not in the scenario registry: it routes to
 * `runWorkload` (or to the coordinator and worker roles).
 */
export const RUN_SCENARIO_NAMES = [...SCENARIO_NAMES, 'sum'] as const;

/**
 * The settings (config keys) that only the sum workload honours. Given any of them (as a flag, a
 * `CONVERGE_*` variable or in the config file), `converge run` without `--scenario` runs `sum`;
 * with `--scenario` naming another scenario they are refused (exit 2).
 */
export const SUM_ONLY_SETTINGS = ['agent', 'record', 'a2a', 'duration', 'window', 'otlp', 'assignment'] as const;

/**
 * The scenario `converge run` runs when `--scenario` is not given: `market` for `--role all`;
 * `sum` for `--role coordinator|worker` or when any of {@link SUM_ONLY_SETTINGS} is given.
 * `given` holds the settings as given (before defaults), by config key.
 */
export function defaultScenario(given: Readonly<Record<string, unknown>>): 'market' | 'sum' {
  if (given.role !== undefined && given.role !== 'all') return 'sum';
  return SUM_ONLY_SETTINGS.some((k) => given[k] !== undefined) ? 'sum' : 'market';
}

/** The "Scenarios" section of `converge run --help`. */
export const SCENARIO_HELP: readonly string[] = [
  'Which workload runs: --scenario NAME. Without it: market, except that sum (the classic',
  'workload) runs when --role is coordinator or worker, or when any of --agent, --record, --a2a,',
  '--duration, --window, --otlp or --assignment is given (as a flag, a CONVERGE_* variable or in',
  'the config file): those work on the sum workload only, and a --scenario other than sum refuses',
  'them (exit 2).',
  '',
  'Scenarios (--scenario NAME; in one process, short sizes: try -t 40 -n 4):',
  '  sum          the classic workload: a coordinator submits sums of 8 integers (every 10th',
  '               auctioned with --assignment mixed) to a pool; workers claim or win, execute and',
  '               report them; the results are checked. The only one for --role coordinator|worker,',
  '               --record, --a2a, --agent, --duration, --window, --otlp and --assignment',
  '  market       every task auctioned, cycling first-price, second-price, english and dutch',
  '               auctions, among workers with different capabilities (sum, sort) and prices;',
  '               the winner gets the task reserved; the summary shows auctions won and clearing',
  '               prices per agent and per auction type',
  '  negotiation  a client negotiates the price of each task with a worker before the work',
  '               (propose, counter, accept or reject); agreed tasks are done at the agreed price',
  '  vote         newcomers ask to join a pool whose governance (democratic) decides by the',
  "               members' votes; one is admitted, one refused; a trust-weighted ballot picks the",
  '               order of the work',
  '  delegation   a lead delegates task rights to two sub-leads who re-delegate narrower scopes',
  "               to workers; one sub-lead's grant is revoked mid-run (its workers stop, cascade)",
  '  llm          a worker backed by a chat model: the command starts a fake OpenAI-compatible',
  '               model server on 127.0.0.1 (no key needed) that answers with the decisions',
  '  chaos        workers crash holding claims, one is slow, a connection drops, one agent signs',
  '               with the wrong key, some tool calls hang past their timeout; every task still',
  '               completes once or is dead-lettered',
  'A scenario exits 0 when its checks (listed at the end of its summary) all hold, 1 otherwise',
  '(sum: 0 when every task completed with the right result).',
];
