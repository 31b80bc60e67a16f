/**
 * Push notifications without server-side request forgery: a push URL whose host is, or resolves
 * to, a loopback, private (RFC 1918, fc00::/7), link-local (169.254/16, fe80::/10) or
 * unspecified address is refused, when the config is set AND at every delivery. A delivery
 * resolves the host, checks every address, and connects to the checked one (the socket's
 * `lookup` answers with it), so a DNS answer that changes between the check and the connect
 * (rebinding) cannot aim it elsewhere; redirects are not followed. `allowPrivateTargets` or an
 * allowlist of host names lifts the check (e.g. receivers on 127.0.0.1 in development).
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import type { StreamResponse, Task, TaskPushNotificationConfig } from '@a2a-js/sdk';
import { V1PushNotificationSerializer, type PushNotificationSender, type PushNotificationStore, type ServerCallContext } from '@a2a-js/sdk/server';
import { PushTargetRefusedError } from './errors.js';

/** One resolved address of a host. */
export interface ResolvedAddress {
  address: string;
  /** 4 or 6. */
  family: number;
}

/** Resolves a host name to all its addresses (default: `dns.lookup` with `all: true`, as a socket would). */
export type HostResolver = (hostname: string) => Promise<ResolvedAddress[]>;

/** Where push notifications may go. */
export interface PushTargetPolicy {
  /** Allows loopback, private, link-local and unspecified targets (default false). */
  allowPrivateTargets?: boolean;
  /** Host names (as in the URL, case-insensitive) allowed whatever they resolve to. */
  allowHosts?: readonly string[];
  /** The resolver (default `dns.lookup`, all addresses). */
  resolve?: HostResolver;
}

const BLOCKED = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['127.0.0.0', 8],
  ['10.0.0.0', 8],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['169.254.0.0', 16],
] as const) {
  BLOCKED.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
] as const)
  BLOCKED.addSubnet(net, prefix, 'ipv6');

/**
 * Whether `address` (an IP literal) is loopback (127/8, ::1), private (10/8, 172.16/12,
 * 192.168/16, fc00::/7), link-local (169.254/16, fe80::/10) or unspecified (0/8, ::), IPv4-mapped
 * IPv6 forms included. A string that is not an IP address counts as blocked.
 */
export function isBlockedAddress(address: string): boolean {
  const a = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const v = isIP(a);
  if (v === 0) return true;
  return BLOCKED.check(a, v === 4 ? 'ipv4' : 'ipv6');
}

const defaultResolve: HostResolver = async (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/**
 * Checks a push target. Returns the addresses to connect to (all checked), or `null` when the
 * policy lets the host through unchecked. `PushTargetRefusedError` when the host is, or resolves
 * to, a blocked address, or does not resolve.
 */
export async function checkPushTarget(url: URL, policy: PushTargetPolicy): Promise<ResolvedAddress[] | null> {
  const host = url.hostname.toLowerCase();
  if (policy.allowPrivateTargets || (policy.allowHosts ?? []).some((h) => h.toLowerCase() === host)) return null;
  const literal = host.startsWith('[') ? host.slice(1, -1) : host;
  const family = isIP(literal);
  if (family !== 0) {
    if (isBlockedAddress(literal))
      throw new PushTargetRefusedError(`push notification url ${url.origin} targets the internal address ${literal}`, url.origin, literal);
    return [{ address: literal, family }];
  }
  let addresses: ResolvedAddress[];
  try {
    addresses = await (policy.resolve ?? defaultResolve)(host);
  } catch (err) {
    throw new PushTargetRefusedError(`push notification host ${host} does not resolve`, url.origin, null, { cause: err });
  }
  if (addresses.length === 0) throw new PushTargetRefusedError(`push notification host ${host} does not resolve`, url.origin, null);
  const bad = addresses.find((a) => isBlockedAddress(a.address));
  if (bad) throw new PushTargetRefusedError(`push notification host ${host} resolves to the internal address ${bad.address}`, url.origin, bad.address);
  return addresses;
}

/** A socket `lookup` that answers only with addresses already checked. */
function pinnedLookup(addresses: ResolvedAddress[]): LookupFunction {
  return ((_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, addresses);
    else callback(null, addresses[0]!.address, addresses[0]!.family);
  }) as LookupFunction;
}

/** Counters of a `GuardedPushSender`. */
export interface PushStats {
  /** Notifications answered with a 2xx. */
  sent: number;
  /** Notifications that failed (network error, time-out, non-2xx answer). */
  failed: number;
  /** Notifications refused at delivery: the target is (now) an internal address. */
  refused: number;
}

/** Options of `GuardedPushSender`. */
export interface GuardedPushSenderOptions extends PushTargetPolicy {
  store: PushNotificationStore;
  /** Time one POST may take, in ms. */
  timeoutMs: number;
  /** Where failures and refusals are logged (pino-style). */
  logger?: { warn(obj: object, msg: string): void };
}

/**
 * The SDK's `PushNotificationSender`, delivering each event to the task's configs (in order per
 * task, the SDK's v1 JSON body, the config's `authentication` as `Authorization`) through the
 * target check above. Never throws: every failure and refusal is counted and logged.
 */
export class GuardedPushSender implements PushNotificationSender {
  readonly #o: GuardedPushSenderOptions;
  readonly #serializer = new V1PushNotificationSerializer();
  readonly #chains = new Map<string, Promise<void>>();
  readonly #stats: PushStats = { sent: 0, failed: 0, refused: 0 };

  constructor(options: GuardedPushSenderOptions) {
    this.#o = options;
  }

  /** A snapshot of the counters. */
  stats(): PushStats {
    return { ...this.#stats };
  }

  /** See `PushNotificationSender.send`. */
  async send(streamResponse: StreamResponse, context: ServerCallContext, task?: Task): Promise<void> {
    const p = streamResponse.payload;
    const taskId = !p ? '' : p.$case === 'task' ? p.value.id : p.value.taskId;
    if (!taskId) return;
    const configs = await this.#o.store.load(taskId, context);
    if (configs.length === 0) return;
    const { body, contentType } = this.#serializer.serialize(streamResponse, task);
    const previous = this.#chains.get(taskId) ?? Promise.resolve();
    const next = previous.then(async () => {
      await Promise.all(configs.map((c) => this.#deliver(taskId, c, body, contentType)));
    });
    this.#chains.set(taskId, next);
    try {
      await next;
    } finally {
      if (this.#chains.get(taskId) === next) this.#chains.delete(taskId);
    }
  }

  async #deliver(taskId: string, config: TaskPushNotificationConfig, body: string, contentType: string): Promise<void> {
    let url: URL;
    let pinned: ResolvedAddress[] | null;
    try {
      url = new URL(config.url);
      // Resolved and checked again now: what was checked when the config was set may resolve elsewhere today.
      pinned = await checkPushTarget(url, this.#o);
    } catch (err) {
      this.#stats.refused++;
      this.#o.logger?.warn({ taskId, err: (err as Error).message }, 'a2a push notification refused');
      return;
    }
    const headers: Record<string, string> = { 'content-type': contentType, 'content-length': String(Buffer.byteLength(body)) };
    const a = config.authentication;
    if (a?.scheme && a.credentials) headers.authorization = `${a.scheme} ${a.credentials}`;
    else if (config.token) headers['x-a2a-notification-token'] = config.token;
    try {
      const status = await post(url, body, headers, this.#o.timeoutMs, pinned);
      if (status < 200 || status > 299) throw new Error(`HTTP ${status}`);
      this.#stats.sent++;
    } catch (err) {
      this.#stats.failed++;
      this.#o.logger?.warn({ taskId, url: url.origin, err: (err as Error).message }, 'a2a push notification failed');
    }
  }
}

/** POSTs `body`; connects only to `pinned` when given. Resolves the status code (redirects are not followed). */
function post(url: URL, body: string, headers: Record<string, string>, timeoutMs: number, pinned: ResolvedAddress[] | null): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const options: RequestOptions = { method: 'POST', headers, signal: AbortSignal.timeout(timeoutMs), ...(pinned ? { lookup: pinnedLookup(pinned) } : {}) };
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, options, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
