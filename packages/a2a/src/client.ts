/**
 * A remote A2A agent as a Converge peer: its card is fetched and its signature verified, its
 * key gated by the trust model, its skills offered as capabilities (discovery) and as a tool;
 * tasks delegated to it stream their events, and a broken stream is resumed
 * (`GetTask` + `SubscribeToTask`, or the same send again before the task is known).
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { JWK } from 'jose';
import { TaskState, type AgentCard, type Artifact, type Message, type StreamResponse, type Task as A2ATask } from '@a2a-js/sdk';
import { ClientFactory, DefaultAgentCardResolver, JsonRpcTransportFactory, RestTransportFactory, type Client, type RequestOptions } from '@a2a-js/sdk/client';
import { AbortError, ValidationError, type Identity, type Tool, type WireRecord, type WireValue } from '@converge/core';
import type { AgentDescriptor, AgentDescriptorInit } from '@converge/network';
import { AGENT_CARD_PATH, verifyAgentCard } from './card.js';
import { A2AConnectionError, A2ATaskCanceledError, A2ATaskFailedError, A2ATaskRejectedError, AgentCardError, AgentCardSignatureError } from './errors.js';
import { UntrustedAgentError } from './errors.js';
import { dataPart, isFinalForBridge, resultOfArtifacts, stateName, textOf, textPart, toJsonValue, userMessage } from './mapping.js';

/** Default limits of `connectA2AAgent` (its options of the same names), frozen. */
export const A2A_CLIENT_DEFAULTS = Object.freeze({ maxReconnects: 5, reconnectDelayMs: 200, maxCardBytes: 262_144, minTrust: 0.5, pollMs: 200 });
/** Default reconnect attempts after a broken stream, per delegation: 5. */
export const DEFAULT_A2A_MAX_RECONNECTS = A2A_CLIENT_DEFAULTS.maxReconnects;
/** Default first reconnect delay: 200 ms (doubled per attempt, at most `MAX_A2A_RECONNECT_DELAY_MS`). */
export const DEFAULT_A2A_RECONNECT_DELAY_MS = A2A_CLIENT_DEFAULTS.reconnectDelayMs;
/** Longest reconnect delay: 5 s. */
export const MAX_A2A_RECONNECT_DELAY_MS = 5_000;
/** Default largest agent card or JWKS document fetched: 256 KiB. */
export const DEFAULT_A2A_MAX_CARD_BYTES = A2A_CLIENT_DEFAULTS.maxCardBytes;
/** Default least trust score a remote agent's key needs when a trust source is given: 0.5. */
export const DEFAULT_A2A_MIN_TRUST = A2A_CLIENT_DEFAULTS.minTrust;
/** Default interval of `GetTask` polling when the remote agent does not stream: 200 ms. */
export const DEFAULT_A2A_CLIENT_POLL_MS = A2A_CLIENT_DEFAULTS.pollMs;

/** Trust scores by key fingerprint (a policy `TrustModel` fits; `recordOutcome` is used when present). */
export interface A2ATrust {
  score(agentId: string): number;
  recordOutcome?(agentId: string, outcome: 'success' | 'failure'): unknown;
}

/** Options of `connectA2AAgent`. */
export interface ConnectA2AOptions {
  /** HTTP client (default the global `fetch`). */
  fetch?: typeof fetch;
  /** Trust scores: the card's key must score at least `minTrust` when connecting and before each delegation. */
  trust?: A2ATrust;
  /** Least score (default `DEFAULT_A2A_MIN_TRUST`). */
  minTrust?: number;
  /** Pinned key fingerprints: when given, the card must be signed by one of them. */
  trustedKeys?: readonly string[];
  /** Credentials for the card's declared schemes. */
  credentials?: { bearer?: string; apiKey?: string; apiKeyHeader?: string };
  /** Reconnect attempts per delegation (default `DEFAULT_A2A_MAX_RECONNECTS`). */
  maxReconnects?: number;
  /** First reconnect delay (default `DEFAULT_A2A_RECONNECT_DELAY_MS`). */
  reconnectDelayMs?: number;
  /** Largest card or JWKS in bytes (default `DEFAULT_A2A_MAX_CARD_BYTES`). */
  maxCardBytes?: number;
  /** Polling interval without streaming (default `DEFAULT_A2A_CLIENT_POLL_MS`). */
  pollMs?: number;
  signal?: AbortSignal;
}

/** What is delegated: text, data (a JSON object or value), optionally a skill id. */
export interface DelegateInput {
  text?: string;
  data?: unknown;
  /** A skill id of the card (sent as `metadata.skill`). */
  skill?: string;
  /** Continues an A2A context. */
  contextId?: string;
}

/** Options of one delegation. */
export interface DelegateOptions {
  signal?: AbortSignal;
  /** The A2A message id (default a fresh UUID): a retry with the same id is the same task on an idempotent server. */
  messageId?: string;
  /** Sees every stream event. */
  onEvent?: (event: StreamResponse) => void;
}

/** A completed delegation. */
export interface A2ADelegation {
  taskId: string;
  contextId: string;
  /** The artifacts' value (one part: that value; several: the list). */
  result: WireValue;
  artifacts: Artifact[];
  /** Streams resumed after a break. */
  reconnects: number;
}

/** Counters of a remote agent. */
export interface RemoteAgentStats {
  delegated: number;
  completed: number;
  failed: number;
  reconnects: number;
  /** Delegations refused because the key's trust fell below `minTrust`. */
  untrusted: number;
}

async function readBounded(res: Response, max: number, what: string): Promise<unknown> {
  const declared = Number(res.headers.get('content-length') ?? '0');
  if (declared > max) throw new AgentCardError(`${what} is ${declared} bytes, more than ${max}`);
  const body = res.body;
  if (!body) throw new AgentCardError(`${what} has no body`);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > max) throw new AgentCardError(`${what} is more than ${max} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw new AgentCardError(`${what} is not JSON`, { cause: err });
  }
}

/** `ms` of waiting; an abort rejects with Converge's `AbortError`. */
async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, { signal });
  } catch (err) {
    throw new AbortError('aborted', { cause: signal?.reason ?? err });
  }
}

type SendRequest = Parameters<Client['sendMessage']>[0];

/** The send request of one delegation; `ValidationError` when the input has neither text nor data. */
function delegateRequest(input: DelegateInput, messageId: string): SendRequest {
  const parts = [];
  if (input.text !== undefined) parts.push(textPart(input.text));
  if (input.data !== undefined) parts.push(dataPart(toJsonValue(input.data)));
  if (parts.length === 0) throw new ValidationError('a delegation needs text or data');
  const message = userMessage(parts, { messageId, contextId: input.contextId ?? '', metadata: input.skill ? { skill: input.skill } : {} });
  return {
    tenant: '',
    message,
    configuration: { acceptedOutputModes: [], taskPushNotificationConfig: undefined, returnImmediately: false },
    metadata: {},
  };
}

/** What one delegation has heard so far: the task (with its latest status) and its artifacts, or a direct reply. */
class DelegationState {
  task: A2ATask | undefined;
  reply: Message | undefined;
  readonly artifacts = new Map<string, Artifact>();
  constructor(private readonly onEvent?: (sr: StreamResponse) => void) {}

  /** Folds one event in (artifact updates with `append` extend the artifact). */
  apply(sr: StreamResponse): void {
    this.onEvent?.(sr);
    const p = sr.payload;
    if (p?.$case === 'task') {
      this.task = p.value;
      for (const a of p.value.artifacts) this.artifacts.set(a.artifactId, a);
    } else if (p?.$case === 'statusUpdate' && this.task && p.value.taskId === this.task.id) this.task = { ...this.task, status: p.value.status };
    else if (p?.$case === 'artifactUpdate' && p.value.artifact) {
      const a = p.value.artifact;
      const prev = this.artifacts.get(a.artifactId);
      this.artifacts.set(a.artifactId, p.value.append && prev ? { ...prev, parts: [...prev.parts, ...a.parts] } : a);
    } else if (p?.$case === 'message') this.reply = p.value;
  }

  /** A reply came, or the task reached a state the bridge treats as final. */
  get done(): boolean {
    return this.reply !== undefined || isFinalForBridge(this.task?.status?.state);
  }

  /** Applies the stream's events until it ends or the delegation is done. */
  async drain(stream: AsyncIterable<StreamResponse>): Promise<void> {
    for await (const sr of stream) {
      this.apply(sr);
      if (this.done) return;
    }
  }
}

/**
 * Fetches the agent card at `url` (its base URL or the card's own URL), verifies its signature
 * (the key from the JWKS its `jku` names, same origin as the card), gates the key by
 * `trustedKeys` and `trust`, and returns the remote agent. Errors: `AgentCardError`,
 * `AgentCardSignatureError`, `UntrustedAgentError`.
 */
export async function connectA2AAgent(url: string, options: ConnectA2AOptions = {}): Promise<A2ARemoteAgent> {
  const doFetch = options.fetch ?? fetch;
  const maxBytes = options.maxCardBytes ?? A2A_CLIENT_DEFAULTS.maxCardBytes;
  const cardUrl = url.endsWith('.json') ? new URL(url) : new URL(AGENT_CARD_PATH, url.endsWith('/') ? url : `${url}/`);
  let card: AgentCard;
  try {
    const res = await doFetch(cardUrl, { headers: { 'A2A-Version': '1.0', accept: 'application/json' }, signal: options.signal });
    if (!res.ok) throw new AgentCardError(`agent card ${cardUrl.href}: HTTP ${res.status}`);
    card = new DefaultAgentCardResolver().normalizeAgentCard(await readBounded(res, maxBytes, 'the agent card'));
  } catch (err) {
    if (err instanceof AgentCardError) throw err;
    throw new AgentCardError(`agent card ${cardUrl.href} could not be read`, { cause: err });
  }
  const verified = await verifyAgentCard(card, async (kid, jku) => {
    if (!jku) return undefined;
    const keysUrl = new URL(jku, cardUrl);
    if (keysUrl.origin !== cardUrl.origin) throw new AgentCardSignatureError(`jku ${keysUrl.origin} is not the card's origin ${cardUrl.origin}`);
    const res = await doFetch(keysUrl, { signal: options.signal });
    if (!res.ok) throw new AgentCardSignatureError(`JWKS ${keysUrl.href}: HTTP ${res.status}`);
    const jwks = (await readBounded(res, maxBytes, 'the JWKS')) as { keys?: JWK[] } | null;
    return jwks?.keys?.find((k) => k.kid === kid);
  });
  const remote = new A2ARemoteAgent(card, cardUrl.href, verified.keyFingerprint, options);
  if (options.trustedKeys && !options.trustedKeys.includes(verified.keyFingerprint)) {
    throw new UntrustedAgentError(`agent card key ${verified.keyFingerprint.slice(0, 16)} is not one of the trusted keys`, verified.keyFingerprint);
  }
  remote.checkTrust();
  await remote.open();
  return remote;
}

/** A connected remote A2A agent (see `connectA2AAgent`). */
export class A2ARemoteAgent {
  /** The verified card. */
  readonly card: AgentCard;
  /** Where the card was fetched. */
  readonly cardUrl: string;
  /** Fingerprint of the key that signed the card: the remote agent's identity for trust. */
  readonly keyFingerprint: string;
  readonly #o: ConnectA2AOptions;
  #client: Client | undefined;
  readonly #stats: RemoteAgentStats = { delegated: 0, completed: 0, failed: 0, reconnects: 0, untrusted: 0 };

  /** Use `connectA2AAgent` (it verifies the card first). */
  constructor(card: AgentCard, cardUrl: string, keyFingerprint: string, options: ConnectA2AOptions) {
    this.card = card;
    this.cardUrl = cardUrl;
    this.keyFingerprint = keyFingerprint;
    this.#o = options;
  }

  /** Builds the SDK client over the card's interfaces (JSON-RPC preferred, then HTTP+JSON). */
  async open(): Promise<void> {
    const fetchImpl = this.#o.fetch;
    const factory = new ClientFactory({
      transports: [new JsonRpcTransportFactory({ fetchImpl }), new RestTransportFactory({ fetchImpl })],
      preferredTransports: ['JSONRPC', 'HTTP+JSON'],
    });
    this.#client = await factory.createFromAgentCard(this.card);
  }

  /** The SDK client (after `open`). */
  get client(): Client {
    if (!this.#client) throw new ValidationError('the remote agent is not open');
    return this.#client;
  }

  /** Skill ids of the card: the capabilities this peer offers. */
  skills(): string[] {
    return this.card.skills.map((s) => s.id);
  }

  /** A snapshot of the counters. */
  stats(): RemoteAgentStats {
    return { ...this.#stats };
  }

  /** `UntrustedAgentError` unless the key's trust score is at least `minTrust` (no trust source: passes). */
  checkTrust(): void {
    const trust = this.#o.trust;
    if (!trust) return;
    const min = this.#o.minTrust ?? A2A_CLIENT_DEFAULTS.minTrust;
    const score = trust.score(this.keyFingerprint);
    if (!(score >= min)) {
      this.#stats.untrusted++;
      throw new UntrustedAgentError(
        `remote agent ${this.card.name} (key ${this.keyFingerprint.slice(0, 16)}) has trust ${score}, below ${min}`,
        this.keyFingerprint,
      );
    }
  }

  #requestOptions(signal?: AbortSignal): RequestOptions {
    const c = this.#o.credentials;
    const serviceParameters: Record<string, string> = {};
    if (c?.bearer) serviceParameters.authorization = `Bearer ${c.bearer}`;
    if (c?.apiKey) serviceParameters[(c.apiKeyHeader ?? 'x-api-key').toLowerCase()] = c.apiKey;
    return { signal, serviceParameters };
  }

  /**
   * Delegates one task and waits for its end. Completed: the result. Otherwise
   * `A2ATaskFailedError` (failed, input or auth required), `A2ATaskRejectedError` (rejected: a
   * `PolicyError`), `A2ATaskCanceledError` (a `ConflictError`), `A2AConnectionError` (the stream
   * could not be resumed), `UntrustedAgentError` (trust fell below `minTrust`), `AbortError`.
   */
  async delegate(input: DelegateInput, options: DelegateOptions = {}): Promise<A2ADelegation> {
    this.checkTrust();
    this.#stats.delegated++;
    const signal = options.signal ?? this.#o.signal;
    const request = delegateRequest(input, options.messageId ?? randomUUID());
    const state = new DelegationState(options.onEvent);
    const reconnects = await this.#follow(state, request, signal);
    return this.#finish(state.task, state.reply, [...state.artifacts.values()], reconnects);
  }

  /**
   * Attempts until the delegation is done; returns the reconnects it took. Polling a
   * non-streaming task is not a reconnect; a broken or ended stream is.
   */
  async #follow(state: DelegationState, request: SendRequest, signal: AbortSignal | undefined): Promise<number> {
    const streaming = this.card.capabilities?.streaming === true;
    const max = this.#o.maxReconnects ?? A2A_CLIENT_DEFAULTS.maxReconnects;
    let backoff = this.#o.reconnectDelayMs ?? A2A_CLIENT_DEFAULTS.reconnectDelayMs;
    let reconnects = 0;
    let lastError = await this.#attempt(state, request, streaming, signal);
    while (!state.done) {
      if (lastError !== undefined || streaming) {
        if (reconnects >= max) {
          this.#stats.failed++;
          throw new A2AConnectionError(`delegation to ${this.card.name} broke off and did not resume after ${max} reconnects`, { cause: lastError });
        }
        await sleep(backoff, signal);
        backoff = Math.min(MAX_A2A_RECONNECT_DELAY_MS, backoff * 2);
        reconnects++;
        this.#stats.reconnects++;
      }
      lastError = await this.#attempt(state, request, streaming, signal);
    }
    return reconnects;
  }

  /**
   * One attempt: before the task is known, the send (streamed or not); after, `GetTask` then
   * `SubscribeToTask` (or one poll interval without streaming). Resolves the error it met, if any;
   * an abort rejects.
   */
  async #attempt(state: DelegationState, request: SendRequest, streaming: boolean, signal: AbortSignal | undefined): Promise<unknown> {
    const client = this.client;
    const task = state.task;
    try {
      if (task) {
        const t = await client.getTask({ tenant: '', id: task.id, historyLength: 0 }, this.#requestOptions(signal));
        state.apply({ payload: { $case: 'task', value: t } });
        if (!state.done && streaming) await state.drain(client.resubscribeTask({ tenant: '', id: task.id }, this.#requestOptions(signal)));
        else if (!state.done) await sleep(this.#o.pollMs ?? A2A_CLIENT_DEFAULTS.pollMs, signal);
      } else if (streaming) await state.drain(client.sendMessageStream(request, this.#requestOptions(signal)));
      else {
        const r = await client.sendMessage(request, this.#requestOptions(signal));
        if ('messageId' in r && !('status' in r)) state.reply = r as Message;
        else state.apply({ payload: { $case: 'task', value: r as A2ATask } });
      }
    } catch (err) {
      if (signal?.aborted) throw new AbortError('delegation aborted', { cause: signal.reason });
      return err;
    }
    return undefined;
  }

  async #finish(task: A2ATask | undefined, reply: Message | undefined, artifacts: Artifact[], reconnects: number): Promise<A2ADelegation> {
    if (reply && !task) {
      await this.#record('success');
      this.#stats.completed++;
      return { taskId: reply.taskId, contextId: reply.contextId, result: textOf(reply.parts), artifacts: [], reconnects };
    }
    const t = task!;
    const state = t.status?.state;
    const why = t.status?.message ? textOf(t.status.message.parts) : '';
    if (state === TaskState.TASK_STATE_COMPLETED) {
      await this.#record('success');
      this.#stats.completed++;
      return { taskId: t.id, contextId: t.contextId, result: resultOfArtifacts(artifacts), artifacts, reconnects };
    }
    this.#stats.failed++;
    if (state === TaskState.TASK_STATE_REJECTED)
      throw new A2ATaskRejectedError(`remote agent ${this.card.name} rejected task ${t.id}${why ? `: ${why}` : ''}`, t.id);
    if (state === TaskState.TASK_STATE_CANCELED) throw new A2ATaskCanceledError(`remote task ${t.id} was cancelled`, t.id);
    await this.#record('failure');
    throw new A2ATaskFailedError(`remote task ${t.id} ended ${stateName(state)}${why ? `: ${why}` : ''}`, t.id, stateName(state));
  }

  async #record(outcome: 'success' | 'failure'): Promise<void> {
    await this.#o.trust?.recordOutcome?.(this.keyFingerprint, outcome);
  }

  /** Cancels a remote task. */
  async cancel(taskId: string, signal?: AbortSignal): Promise<A2ATask> {
    return this.client.cancelTask({ tenant: '', id: taskId, metadata: {} }, this.#requestOptions(signal));
  }

  /**
   * The remote agent as a Converge tool (default name `a2a/<card name>`): params `text`, `skill`,
   * `data` (or, without `text` and `data`, the params themselves are the data); returns the
   * delegation's result. An agent invokes it with an `InvokeTool` decision and sees the
   * outcome (`ok`, or `failed`/`refused`/`conflict`/`timeout` from the errors above) next turn.
   */
  tool(name = `a2a/${this.card.name.replace(/[^A-Za-z0-9._-]+/g, '-')}`): Tool {
    return {
      name,
      description: this.card.description,
      run: async (params: WireRecord, ctx) => {
        const { text, skill, data, ...rest } = params as WireRecord & { text?: unknown; skill?: unknown; data?: unknown };
        const input: DelegateInput = {};
        if (typeof text === 'string') input.text = text;
        if (typeof skill === 'string') input.skill = skill;
        if (data !== undefined) input.data = data;
        else if (Object.keys(rest).length > 0 || input.text === undefined) input.data = rest;
        return (await this.delegate(input, { signal: ctx.signal })).result;
      },
    };
  }

  /**
   * The discovery descriptor of this peer, signed by `bridge` (the local identity that speaks
   * for it): the card's skills as capabilities, the A2A endpoint, and the verified card key in
   * the metadata (`a2a_key`), so a query by capability finds it and the key stays checkable.
   */
  descriptor(bridge: Identity): AgentDescriptorInit {
    return {
      id: bridge.fingerprint,
      publicKey: bridge,
      topics: [],
      capabilities: this.card.skills.map((s) => ({ name: s.id, description: s.description })),
      endpoints: this.card.supportedInterfaces.map((i) => `a2a+${i.url}`),
      metadata: { a2a_card: this.cardUrl, a2a_key: this.keyFingerprint, a2a_name: this.card.name },
    };
  }
}

/** Registers `remote` in discovery as a peer (see `A2ARemoteAgent.descriptor`). */
export function registerA2APeer(
  discovery: { register(d: AgentDescriptorInit): Promise<AgentDescriptor> },
  remote: A2ARemoteAgent,
  bridge: Identity,
): Promise<AgentDescriptor> {
  return discovery.register(remote.descriptor(bridge));
}
