// The A2A router's guards, in front of the SDK's handlers: rate limit per client address,
// authentication through the card's declared schemes, and the request body bound. Each
// refusal is counted and logged once, by reason.
import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { User } from '@a2a-js/sdk/server';
import type { KeyedRateLimiter } from '@converge/policy';
import { DEFAULT_API_KEY_HEADER } from './card.js';

/** Why a request was refused (the keys of `A2AServerStats.refused`). */
export type RefusalReason = 'body' | 'rate' | 'auth' | 'push-url' | 'push-target' | 'push-configs';

/** Counts and logs refusals by reason. */
export interface Refusals {
  /** The counts so far, by reason. */
  readonly counts: Record<RefusalReason, number>;
  /** Counts one refusal and logs it with `detail`. */
  refuse(reason: RefusalReason, detail: object): void;
}

/** Refusal counters that log each refusal to `logger` (pino-style `warn(object, message)`). */
export function refusals(logger?: { warn(obj: object, msg: string): void }): Refusals {
  const counts: Record<RefusalReason, number> = { body: 0, rate: 0, auth: 0, 'push-url': 0, 'push-target': 0, 'push-configs': 0 };
  return {
    counts,
    refuse(reason, detail) {
      counts[reason]++;
      logger?.warn({ reason, ...detail }, 'a2a request refused');
    },
  };
}

type Middleware = (req: Request, res: Response, next: NextFunction) => void;

/** A JSON-RPC error body (`id: null`: the request was not read). */
const rpcError = (code: number, message: string): object => ({ jsonrpc: '2.0', id: null, error: { code, message } });

/** 429 (with `Retry-After: 1`) once a client address has used up its bucket. */
export function rateLimitGuard(limiter: KeyedRateLimiter, r: Refusals): Middleware {
  return (req, res, next) => {
    const key = req.socket.remoteAddress ?? 'unknown';
    if (limiter.tryRemove(key)) return next();
    r.refuse('rate', { client: key });
    res.status(429).setHeader('Retry-After', '1').json(rpcError(-32000, 'rate limit exceeded'));
  };
}

/** Credentials accepted, each mapped to the principal it authenticates (see `A2AAuthOptions`). */
interface AuthTables {
  bearerTokens?: Readonly<Record<string, string>>;
  apiKeys?: Readonly<Record<string, string>>;
  apiKeyHeader?: string;
}

class PrincipalUser implements User {
  constructor(readonly userName: string) {}
  get isAuthenticated(): boolean {
    return true;
  }
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Credential → principal lookup in constant time per candidate. */
function lookup(table: Readonly<Record<string, string>> | undefined, presented: string | undefined): string | undefined {
  if (!table || presented === undefined) return undefined;
  const p = digest(presented);
  let found: string | undefined;
  for (const [secret, principal] of Object.entries(table)) if (timingSafeEqual(digest(secret), p)) found = principal;
  return found;
}

/** The security schemes a card declares for `auth`. */
export function securityOf(auth: AuthTables | undefined): { bearer: boolean; apiKey: boolean; apiKeyHeader: string } {
  return {
    bearer: Object.keys(auth?.bearerTokens ?? {}).length > 0,
    apiKey: Object.keys(auth?.apiKeys ?? {}).length > 0,
    apiKeyHeader: (auth?.apiKeyHeader ?? DEFAULT_API_KEY_HEADER).toLowerCase(),
  };
}

/**
 * Authentication: one of the declared schemes, else 401 (the card and the JWKS stay public, so
 * they are mounted before it). `userBuilder` names the caller's principal for the SDK.
 */
export function authGuard(auth: AuthTables | undefined, r: Refusals): { requireAuth: Middleware; userBuilder: (req: Request) => Promise<User> } {
  const { bearer: hasBearer, apiKey: hasApiKey, apiKeyHeader } = securityOf(auth);
  const principalOf = (req: Request): string | undefined => {
    const authz = req.header('authorization');
    const bearer = authz && /^bearer\s+/i.test(authz) ? authz.replace(/^bearer\s+/i, '') : undefined;
    return lookup(auth?.bearerTokens, bearer) ?? lookup(auth?.apiKeys, req.header(apiKeyHeader));
  };
  const requireAuth: Middleware = (req, res, next) => {
    if (!hasBearer && !hasApiKey) return next();
    if (principalOf(req) !== undefined) return next();
    r.refuse('auth', { client: req.socket.remoteAddress, path: req.path });
    if (hasBearer) res.setHeader('WWW-Authenticate', 'Bearer');
    res.status(401).json(rpcError(-32000, 'authentication required (see the agent card securitySchemes)'));
  };
  return { requireAuth, userBuilder: async (req) => new PrincipalUser(principalOf(req) ?? 'anonymous') };
}

/** The body bound: parsed here (the SDK's own parser then leaves the body as it is); larger → 413. */
export function bodyLimitGuard(maxBody: number, r: Refusals): Middleware {
  const parse = express.json({ limit: maxBody, type: ['application/json', 'application/a2a+json'] });
  return (req, res, next) => {
    parse(req, res, (err?: unknown) => {
      if (!err) return next();
      const e = err as { type?: string; status?: number };
      if (e.type === 'entity.too.large') {
        r.refuse('body', { client: req.socket.remoteAddress, limit: maxBody });
        res.status(413).json(rpcError(-32600, `request body larger than ${maxBody} bytes`));
        return;
      }
      res.status(e.status ?? 400).json(rpcError(-32700, 'invalid JSON payload'));
    });
  };
}
