import { resolve } from 'node:path';
import { ConfigError, ConvergeError, type Metrics, type Store } from '@converge/core';
import type { Transport } from '@converge/core';
import { LocalHub, LocalTransport } from '@converge/network';
import { TcpTransport } from '@converge/transport-tcp';
import { MemoryStore, FileStore } from '@converge/extensions/storage';
import type { RunConfig } from './config.js';

/** A store opened from a `--store` value, with what it takes to close it. */
export interface OpenedStore {
  store: Store;
  /** A short description for the summary (no credentials). */
  label: string;
  close(): Promise<void>;
}

/**
 * The namespace that keeps one workload's data apart from another's on shared engines:
 * `--store-namespace`, or the pool id with every character other than a letter, digit or `_`
 * replaced by `_` (truncated to 38 characters).
 */
export function storeNamespace(config: Pick<RunConfig, 'storeNamespace' | 'poolId'>): string {
  return config.storeNamespace ?? (config.poolId.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 38) || 'main');
}

/** Where the workload's state lives on each engine, for a namespace. */
export function engineNames(namespace: string): { table: string; redisPrefix: string; subjectPrefix: string } {
  return { table: `converge_${namespace}`, redisPrefix: `converge:${namespace}:`, subjectPrefix: `converge.${namespace}` };
}

/** Opens the store a `--store` / `--discovery-store` value names (`namespace`: see {@link storeNamespace}). */
export async function openStore(spec: string, key: 'store' | 'discoveryStore', namespace = 'main'): Promise<OpenedStore> {
  if (spec === 'memory') return { store: new MemoryStore(), label: 'memory', close: async () => {} };
  if (spec.startsWith('file:') || (key === 'discoveryStore' && !/^[a-z]+:\/\//.test(spec))) {
    const dir = resolve(spec.startsWith('file:') ? spec.slice(5) : spec);
    const store = new FileStore({ dir });
    await store.start();
    return { store, label: `file:${dir}`, close: () => store.stop() };
  }
  if (/^postgres(ql)?:\/\//.test(spec)) {
    const mod = await importAdapter<typeof import('@converge/store-postgres')>('@converge/store-postgres', key);
    const { table } = engineNames(namespace);
    const store = new mod.PostgresStore({ connectionString: spec, table, applicationName: 'converge-cli' }) as Store;
    await startOrExplain(store, key, 'PostgreSQL');
    return { store, label: `postgres:${table}`, close: async () => store.stop?.() };
  }
  if (/^rediss?:\/\//.test(spec)) {
    const mod = await importAdapter<typeof import('@converge/store-redis')>('@converge/store-redis', key);
    const { redisPrefix } = engineNames(namespace);
    const store = new mod.RedisStore({ url: spec, prefix: redisPrefix, clientName: 'converge-cli' }) as Store;
    await startOrExplain(store, key, 'Redis');
    return { store, label: `redis:${redisPrefix}`, close: async () => store.stop?.() };
  }
  throw new ConfigError(`invalid value for ${key}: ${JSON.stringify(spec)} (expected memory, file:PATH, postgres://… or redis://…)`, { key });
}

/** Thrown when an engine named by `--store` or `--transport` cannot be reached at start. */
export class EngineUnavailableError extends ConvergeError {
  /** The setting that named the engine (`store`, `discoveryStore`, `transport`). */
  readonly key: string;
  constructor(message: string, options: { key: string; cause?: unknown }) {
    super(message, 'ERR_ENGINE_UNAVAILABLE', { cause: options.cause });
    this.name = 'EngineUnavailableError';
    this.key = options.key;
  }
}

async function startOrExplain(store: Store, key: string, engine: string): Promise<void> {
  try {
    await store.start?.();
  } catch (err) {
    throw new EngineUnavailableError(`cannot open the ${engine} store (${key}): ${(err as Error).message}`, { key, cause: err });
  }
}

/**
 * Loads an adapter package (a separate package that only its users install) on demand;
 * `ConfigError` naming the package to install when it is missing.
 */
export async function importAdapter<M>(name: string, key: string): Promise<M> {
  try {
    return (await import(name)) as M;
  } catch (err) {
    throw new ConfigError(`${key} needs the ${name} package: npm i ${name}`, { key, cause: err });
  }
}

/** Creates one transport per agent for `--transport`. */
export interface TransportFactory {
  /** A started transport for the agent (coordinator first). */
  create(agentId: string, index: number): Promise<Transport>;
  /** Where the agent can be reached, for discovery. */
  endpoints(transport: Transport): string[];
  /** Tells `transport` how to reach a discovered agent. */
  connect(transport: Transport, agentId: string, endpoints: readonly string[]): void;
  close(): Promise<void>;
}

/** The transports of `--transport local|tcp|ws`; each registers its metrics in `telemetry.metrics` when given. */
export async function transportFactory(config: RunConfig, telemetry: { metrics?: Metrics } = {}): Promise<TransportFactory> {
  const metrics = telemetry.metrics ? { metrics: telemetry.metrics } : {};
  if (config.transport === 'local') return localFactory();
  if (config.transport === 'tcp') return tcpFactory(config, metrics);
  if (config.transport === 'ws') return wsFactory(config, metrics);
  if (/^nats:\/\//.test(config.transport)) return natsFactory(config, metrics);
  throw new ConfigError(`transport ${config.transport} is not available in this build`, { key: 'transport' });
}

/** The metrics option a transport is built with (empty when the run has no registry). */
type MetricsOption = { metrics?: Metrics };

/** The server list of a `nats://…[,nats://…]` value. */
export function natsServers(spec: string): string[] {
  return spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** What a factory whose transports need no address book does on `connect` and `close`. */
const NO_PEERS = { connect: () => {}, close: async () => {} };

/** `--transport local`: every agent on one in-process hub. */
function localFactory(): TransportFactory {
  const hub = new LocalHub();
  return {
    create: async (agentId) => {
      const t = new LocalTransport(agentId, { hub, maxQueue: 100_000 });
      await t.start();
      return t;
    },
    endpoints: () => ['local://'],
    ...NO_PEERS,
  };
}

/** `--transport tcp`: agent `i` listens on `port + i` (any free port when `port` is 0); peers are told each other's address. */
function tcpFactory(config: RunConfig, metrics: MetricsOption): TransportFactory {
  return {
    create: async (agentId, i) => {
      const t = new TcpTransport({ host: config.host, port: config.port === 0 ? 0 : config.port + i, agentId, ...metrics });
      await t.start();
      return t;
    },
    endpoints: (t) => [`tcp://${(t as TcpTransport).address.host}:${(t as TcpTransport).address.port}`],
    connect: (t, agentId, endpoints) => {
      const e = endpoints.find((x) => x.startsWith('tcp://'));
      if (!e) return;
      const url = new URL(e);
      (t as TcpTransport).addPeer(agentId, { host: url.hostname, port: Number(url.port) });
    },
    close: async () => {},
  };
}

/** `--transport ws`: a star; the coordinator (index 0) serves, each worker is a client on its own socket. */
async function wsFactory(config: RunConfig, metrics: MetricsOption): Promise<TransportFactory> {
  const { WebSocketTransport } = await import('@converge/transport-websocket');
  let serverUrl = '';
  return {
    create: async (agentId, i) => {
      const t =
        i === 0
          ? new WebSocketTransport({ host: config.host, port: config.port, agentId, ...metrics })
          : new WebSocketTransport({ url: serverUrl, agentId, ...metrics });
      await t.start();
      if (i === 0) serverUrl = t.listenUrl;
      return t;
    },
    endpoints: (t) => [(t as InstanceType<typeof WebSocketTransport>).url ?? serverUrl],
    ...NO_PEERS,
  };
}

/** `--transport nats://…`: core NATS, subjects under the workload's namespace. */
async function natsFactory(config: RunConfig, metrics: MetricsOption): Promise<TransportFactory> {
  const mod = await importAdapter<typeof import('@converge/transport-nats')>('@converge/transport-nats', 'transport');
  const servers = natsServers(config.transport);
  const { subjectPrefix } = engineNames(storeNamespace(config));
  return {
    create: async (agentId) => {
      // Core NATS for directed messages: the workload's messages (calls for bids, bids) are
      // hints bounded by timeouts; task state lives in the store, so none needs JetStream.
      // transport-nats still types `metrics` as observability's MetricsCollector (telemetry's collector is one).
      const options = { servers, agentId, subjectPrefix, maxQueue: 100_000, ...metrics } as ConstructorParameters<typeof mod.NatsTransport>[0];
      const t = new mod.NatsTransport(options) as Transport;
      try {
        await t.start();
      } catch (err) {
        throw new EngineUnavailableError(`cannot connect to NATS at ${servers.join(',')}: ${(err as Error).message}`, { key: 'transport', cause: err });
      }
      return t;
    },
    // Subjects are derived from the agent id: no address to advertise.
    endpoints: () => [`nats:${subjectPrefix}`],
    ...NO_PEERS,
  };
}
