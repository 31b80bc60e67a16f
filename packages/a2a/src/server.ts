/**
 * A pool as an A2A (v1) agent over HTTP: the signed agent card, the JSON-RPC and HTTP+JSON
 * bindings (the SDK's `DefaultRequestHandler` and Express handlers), authentication through the
 * card's declared schemes, and a bound on every request's size and rate.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Router } from 'express';
import type { AgentCard } from '@a2a-js/sdk';
import { DefaultRequestHandler, type InMemoryPushNotificationStore } from '@a2a-js/sdk/server';
import { agentCardHandler, jsonRpcHandler, restHandler } from '@a2a-js/sdk/server/express';
import { ValidationError, positiveIntOption, requireInt } from '@converge/core';
import type { Capability, Identity, Pool, QueuedTask, TaskConstraints, TaskQueue } from '@converge/core';
import { KeyedRateLimiter } from '@converge/policy';
import { AGENT_CARD_PATH, JSONRPC_PATH, JWKS_PATH, REST_PATH, buildPoolCard, jwksOf, signAgentCard } from './card.js';
import { PoolExecutor, type AdmitHook, type ExecutorStats } from './executor.js';
import { DEFAULT_A2A_MAX_STORED_TASKS, PoolTaskStore } from './task-store.js';
import { GuardedPushSender, type HostResolver, type PushStats } from './push.js';
import { guardedPushStore } from './push-configs.js';
import { authGuard, bodyLimitGuard, rateLimitGuard, refusals, securityOf, type Refusals, type RefusalReason } from './server-guards.js';

/** Default largest request body: 1 MiB. */
export const DEFAULT_A2A_MAX_BODY_BYTES = 1_048_576;

/** Default rate limit of the server per client address (the `limits` of the same names), frozen. */
export const A2A_RATE_DEFAULTS = Object.freeze({ ratePerSecond: 50, rateBurst: 100, maxRateKeys: 10_000 });
/** Default sustained requests per second per client address: 50. */
export const DEFAULT_A2A_RATE_PER_SECOND = A2A_RATE_DEFAULTS.ratePerSecond;
/** Default burst of requests per client address: 100. */
export const DEFAULT_A2A_RATE_BURST = A2A_RATE_DEFAULTS.rateBurst;
/** Default most client addresses with a rate bucket: 10,000. */
export const DEFAULT_A2A_MAX_RATE_KEYS = A2A_RATE_DEFAULTS.maxRateKeys;

/** Default bounds of the server's push notifications (the `limits` of the same names), frozen. */
export const A2A_PUSH_DEFAULTS = Object.freeze({ maxPushConfigsPerTask: 10, maxPushTasks: 10_000, pushTimeoutMs: 5_000 });
/** Default most push-notification configs per task: 10. */
export const DEFAULT_A2A_MAX_PUSH_CONFIGS = A2A_PUSH_DEFAULTS.maxPushConfigsPerTask;
/** Default most tasks with push-notification configs (the oldest task's configs go first): 10,000. */
export const DEFAULT_A2A_MAX_PUSH_TASKS = A2A_PUSH_DEFAULTS.maxPushTasks;
/** Default time a push-notification POST may take: 5 s. */
export const DEFAULT_A2A_PUSH_TIMEOUT_MS = A2A_PUSH_DEFAULTS.pushTimeoutMs;

/** Credentials accepted, each mapped to the principal (caller name) it authenticates. */
export interface A2AAuthOptions {
  /** `Authorization: Bearer <token>` tokens → principal. */
  bearerTokens?: Readonly<Record<string, string>>;
  /** API keys (in `apiKeyHeader`) → principal. */
  apiKeys?: Readonly<Record<string, string>>;
  /** Header of the API key (default `x-api-key`). */
  apiKeyHeader?: string;
}

/** Request bounds of the server. */
export interface A2AServerLimits {
  /** Largest request body in bytes (default `DEFAULT_A2A_MAX_BODY_BYTES`); larger → 413. */
  maxBodyBytes?: number;
  /** Sustained requests per second per client address (default `DEFAULT_A2A_RATE_PER_SECOND`); over it → 429. */
  ratePerSecond?: number;
  /** Burst per client address (default `DEFAULT_A2A_RATE_BURST`). */
  rateBurst?: number;
  /** Client addresses tracked by the rate limiter (default `DEFAULT_A2A_MAX_RATE_KEYS`). */
  maxRateKeys?: number;
  /** Tasks followed at once (default `DEFAULT_A2A_MAX_LIVE_TASKS`); beyond it a send is rejected. */
  maxLiveTasks?: number;
  /** Interval at which followed tasks are read while the queue's `watch` is down or unsupported (default `DEFAULT_A2A_POLL_MS`). */
  pollMs?: number;
  /** Interval at which followed tasks are read while the queue's `watch` is live: the safety net for lost events (default `DEFAULT_A2A_RESYNC_MS`). */
  resyncMs?: number;
  /** First delay before a failed or unsupported queue `watch` is opened again, doubled per failure up to 30 s (default `DEFAULT_A2A_WATCH_RETRY_MS`). */
  watchRetryMs?: number;
  /** Push-notification configs per task (default `DEFAULT_A2A_MAX_PUSH_CONFIGS`). */
  maxPushConfigsPerTask?: number;
  /** Time a push-notification POST may take (default `DEFAULT_A2A_PUSH_TIMEOUT_MS`). */
  pushTimeoutMs?: number;
  /** Tasks with push configs (default `DEFAULT_A2A_MAX_PUSH_TASKS`); past it the oldest task's configs are dropped (counted). */
  maxPushTasks?: number;
  /** A2A tasks held by the task store (default `DEFAULT_A2A_MAX_STORED_TASKS`); past it the oldest finished ones are evicted (counted; still readable from the queue). */
  maxStoredTasks?: number;
}

/** Options of `createA2ARouter` and `createA2AServer`. */
export interface A2AServerOptions {
  /** Where sends submit their tasks (any `TaskQueue`: `StoreTaskQueue`, `PostgresTaskQueue`, ...). */
  queue: TaskQueue;
  /** The pool served: its id receives the tasks, its topics become skills. */
  pool: Pool;
  /** The pool owner's identity (with its secret key): signs the agent card. */
  identity: Identity;
  /** What the pool's workers can do: each becomes a skill a message may ask for (`metadata.skill`). */
  capabilities?: readonly (Capability | string)[];
  /** Card name, description, version. */
  card?: { name?: string; description?: string; version?: string };
  /** Accepted credentials; omitted: no authentication (declare none; anyone may call). */
  auth?: A2AAuthOptions;
  limits?: A2AServerLimits;
  /** Constraints of every submitted task. */
  constraints?: TaskConstraints;
  /** Checked before each submit: a `PolicyError` rejects the send (`TASK_STATE_REJECTED`). */
  admit?: AdmitHook;
  /** Told about every task a send submitted (e.g. to wake the pool's workers at once). */
  onSubmit?: (task: QueuedTask) => void;
  /** Which push-notification URLs are accepted (default: `http:` and `https:` ones); checked before the target check below. */
  allowPushUrl?: (url: URL) => boolean;
  /**
   * Lets push notifications go to loopback, private (RFC 1918, fc00::/7), link-local and
   * unspecified addresses (default false: such a URL, or a host resolving to one, is refused when
   * the config is set and at each delivery).
   */
  allowPrivatePushTargets?: boolean;
  /** Push hosts (URL host names, case-insensitive) allowed whatever they resolve to. */
  pushHostAllowlist?: readonly string[];
  /** Resolves push hosts (default `dns.lookup`, all addresses); e.g. a resolver of your own. */
  resolvePushHost?: HostResolver;
  /** Where refusals are logged (pino-style `warn(object, message)`). */
  logger?: { warn(obj: object, msg: string): void };
}

/** Counters of an A2A server. */
export interface A2AServerStats extends ExecutorStats {
  /** Requests refused, by reason: `body` (413), `rate` (429), `auth` (401), `push-url` (scheme/`allowPushUrl`), `push-target` (internal address), `push-configs`. */
  refused: Record<RefusalReason, number>;
  /** Push deliveries: sent, failed, and refused at delivery (the host resolved to an internal address by then). */
  push: PushStats;
  /** A2A tasks held by the task store now. */
  storedTasks: number;
  /** Tasks evicted from the task store (past `maxStoredTasks`). */
  evictedTasks: number;
  /** Tasks whose push configs were dropped (past `maxPushTasks`). */
  droppedPushTasks: number;
}

/** An A2A router for an Express app, with the handler behind it. */
export interface A2ARouter {
  router: Router;
  /** The signed card as served. */
  card: AgentCard;
  handler: DefaultRequestHandler;
  stats(): A2AServerStats;
  /** Stops following tasks (their A2A requests end). */
  stop(): void;
  /**
   * Tells the server that a task changed, for changes the queue's `watch` does not report (a
   * `StoreTaskQueue` sees only its own instance's transitions: feed it another writer's, e.g. the store's `watch`).
   */
  notifyTaskChanged(taskId: string): void;
}

/** A listening A2A server. */
export interface A2AServer extends A2ARouter {
  /** Base URL, e.g. `http://127.0.0.1:43123/` (ends with a slash). */
  url: string;
  /** Stops following tasks and closes the HTTP server (open streams are cut). */
  close(): Promise<void>;
}

/** An optional limit checked as a positive integer (`ConfigError`); undefined stays undefined (the component's default). */
const optionalPositiveInt = (name: string, v: number | undefined): number | undefined => (v === undefined ? undefined : requireInt(v, name));

/** The bounds checked before anything is built, in this order (a bad one is a `ConfigError`). */
interface CheckedLimits {
  maxBody: number;
  maxPush: number;
  maxPushTasks: number;
  maxStoredTasks: number;
}

function checkedLimits(l: A2AServerLimits): CheckedLimits {
  return {
    maxBody: positiveIntOption(l.maxBodyBytes, DEFAULT_A2A_MAX_BODY_BYTES, 'maxBodyBytes'),
    maxPush: positiveIntOption(l.maxPushConfigsPerTask, A2A_PUSH_DEFAULTS.maxPushConfigsPerTask, 'maxPushConfigsPerTask'),
    maxPushTasks: positiveIntOption(l.maxPushTasks, A2A_PUSH_DEFAULTS.maxPushTasks, 'maxPushTasks'),
    maxStoredTasks: positiveIntOption(l.maxStoredTasks, DEFAULT_A2A_MAX_STORED_TASKS, 'maxStoredTasks'),
  };
}

/** The pool executor behind the router: submits sends as tasks and follows them. */
function poolExecutor(options: A2AServerOptions): PoolExecutor {
  const l = options.limits ?? {};
  return new PoolExecutor({
    queue: options.queue,
    pool: options.pool,
    skills: (options.capabilities ?? []).map((c) => (typeof c === 'string' ? c : c.name)),
    constraints: options.constraints,
    admit: options.admit,
    pollMs: optionalPositiveInt('pollMs', l.pollMs),
    resyncMs: optionalPositiveInt('resyncMs', l.resyncMs),
    watchRetryMs: optionalPositiveInt('watchRetryMs', l.watchRetryMs),
    maxLiveTasks: l.maxLiveTasks,
    onSubmit: options.onSubmit,
    logger: options.logger,
    onReject: (reason, detail) => options.logger?.warn({ reason, detail }, 'a2a send rejected'),
  });
}

/** Push notifications: the guarded config store and the sender that delivers through the same target policy. */
function pushNotifications(
  options: A2AServerOptions,
  limits: CheckedLimits,
  r: Refusals,
): { store: InMemoryPushNotificationStore; sender: GuardedPushSender; dropped: () => number } {
  const l = options.limits ?? {};
  const target = {
    allowPrivateTargets: options.allowPrivatePushTargets ?? false,
    allowHosts: options.pushHostAllowlist ?? [],
    resolve: options.resolvePushHost,
  };
  const { store, dropped } = guardedPushStore(
    {
      allowPushUrl: options.allowPushUrl ?? ((u: URL) => u.protocol === 'http:' || u.protocol === 'https:'),
      target,
      maxPerTask: limits.maxPush,
      maxTasks: limits.maxPushTasks,
      logger: options.logger,
    },
    r,
  );
  const sender = new GuardedPushSender({
    store,
    timeoutMs: positiveIntOption(l.pushTimeoutMs, A2A_PUSH_DEFAULTS.pushTimeoutMs, 'pushTimeoutMs'),
    logger: options.logger,
    ...target,
  });
  return { store, sender, dropped };
}

/** The Express router: rate limit, the public card and JWKS, then the authenticated, body-bounded bindings. */
function a2aRoutes(options: A2AServerOptions, handler: DefaultRequestHandler, maxBody: number, r: Refusals): Router {
  const l = options.limits ?? {};
  const limiter = new KeyedRateLimiter({
    ratePerSecond: l.ratePerSecond ?? A2A_RATE_DEFAULTS.ratePerSecond,
    burst: l.rateBurst ?? A2A_RATE_DEFAULTS.rateBurst,
    maxKeys: l.maxRateKeys ?? A2A_RATE_DEFAULTS.maxRateKeys,
  });
  const router = express.Router();
  router.use(rateLimitGuard(limiter, r));
  router.get(JWKS_PATH, (_req, res) => {
    res.json(jwksOf(options.identity));
  });
  router.use(AGENT_CARD_PATH, agentCardHandler({ agentCardProvider: handler }));
  const { requireAuth, userBuilder } = authGuard(options.auth, r);
  const bodyLimit = bodyLimitGuard(maxBody, r);
  router.use(JSONRPC_PATH, requireAuth, bodyLimit, jsonRpcHandler({ requestHandler: handler, userBuilder }));
  router.use(REST_PATH, requireAuth, bodyLimit, restHandler({ requestHandler: handler, userBuilder }));
  return router;
}

/**
 * An Express router serving the pool as an A2A agent at `baseUrl` (the card names it):
 * `/.well-known/agent-card.json`, `/.well-known/jwks.json`, `/a2a/jsonrpc`, `/a2a/rest`.
 */
export async function createA2ARouter(options: A2AServerOptions & { baseUrl: string }): Promise<A2ARouter> {
  if (!options.queue || !options.pool || !options.identity) throw new ValidationError('createA2ARouter needs queue, pool and identity');
  const limits = checkedLimits(options.limits ?? {});
  const taskStore = new PoolTaskStore(options.queue, limits.maxStoredTasks);
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const r = refusals(options.logger);
  const unsigned = buildPoolCard({ pool: options.pool, baseUrl, capabilities: options.capabilities, ...options.card, security: securityOf(options.auth) });
  const card = await signAgentCard(unsigned, options.identity, `${baseUrl}${JWKS_PATH}`);
  const executor = poolExecutor(options);
  const push = pushNotifications(options, limits, r);
  const handler = new DefaultRequestHandler(card, taskStore, executor, undefined, push.store, push.sender);
  const router = a2aRoutes(options, handler, limits.maxBody, r);
  return {
    router,
    card,
    handler,
    stats: () => ({
      ...executor.stats(),
      refused: { ...r.counts },
      storedTasks: taskStore.size,
      evictedTasks: taskStore.evicted,
      droppedPushTasks: push.dropped(),
      push: push.sender.stats(),
    }),
    stop: () => executor.stop(),
    notifyTaskChanged: (taskId: string) => executor.notifyChanged(taskId),
  };
}

/**
 * Listens on `port` (0: any free port) of `host` (default 127.0.0.1) and serves the pool as an
 * A2A agent. The card names `publicUrl` when given (behind a proxy), else the address bound.
 */
export async function createA2AServer(options: A2AServerOptions & { port?: number; host?: string; publicUrl?: string }): Promise<A2AServer> {
  const host = options.host ?? '127.0.0.1';
  const app = express();
  app.disable('x-powered-by');
  const server: Server = createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = options.publicUrl ?? `http://${host.includes(':') ? `[${host}]` : host}:${port}/`;
  let routed: A2ARouter;
  try {
    routed = await createA2ARouter({ ...options, baseUrl: url });
  } catch (err) {
    server.close();
    throw err;
  }
  app.use(routed.router);
  return {
    ...routed,
    url: url.endsWith('/') ? url : `${url}/`,
    close: async () => {
      routed.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
