/** The names of the built-in scenarios, in help order (`market` first: the one to start with). */
export const SCENARIO_NAMES = ['market', 'negotiation', 'vote', 'delegation', 'llm', 'chaos'] as const;

/** A built-in scenario's name. */
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

/** The "Scenarios" section of `converge run --help`. */
export const SCENARIO_HELP: readonly string[] = [
  'Scenarios (--scenario NAME; in one process, short sizes: try -t 40 -n 4):',
  '  market       every task auctioned, cycling first-price, second-price, english and dutch',
  '               auctions, among workers with different capabilities (sum, sort) and prices;',
  '               the winner gets the task reserved; the summary shows auctions won and clearing',
  '               prices per agent and per auction type',
  '  negotiation  a client negotiates the price of each task with a worker before the work',
  '               (propose, counter, accept or reject); agreed tasks are done at the agreed price',
  '  vote         newcomers ask to join a pool whose governance (democratic) decides by the',
  '               members\' votes; one is admitted, one refused; a trust-weighted ballot picks the',
  '               order of the work',
  '  delegation   a lead delegates task rights to two sub-leads who re-delegate narrower scopes',
  '               to workers; one sub-lead\'s grant is revoked mid-run (its workers stop, cascade)',
  '  llm          a worker backed by a chat model: the command starts a fake OpenAI-compatible',
  '               model server on 127.0.0.1 (no key needed) that answers with the decisions',
  '  chaos        workers crash holding claims, one is slow, a connection drops, one agent signs',
  '               with the wrong key, some tool calls hang past their timeout; every task still',
  '               completes once or is dead-lettered',
  'A scenario exits 0 when its checks (listed at the end of its summary) all hold, 1 otherwise.',
];
