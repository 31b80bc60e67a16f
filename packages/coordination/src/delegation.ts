import { LimitExceededError, NotFoundError, PolicyError, ValidationError, uuid4, positiveIntOption } from '@converge/core';
import { requireId, type Clock } from './common.js';

/** A grant of `actions` from `delegator` to `delegatee`. */
export interface Delegation {
  id: string;
  delegator: string;
  delegatee: string;
  actions: string[];
  /** Unix ms after which it no longer counts, or `null`. */
  expiresAt: number | null;
  createdAt: number;
  /** Delegations the delegator held these actions through (empty when from its root scope). */
  parents: string[];
  revoked: boolean;
}

/** What a delegation grants. */
export interface DelegationScope {
  actions: readonly string[];
  expiresAt?: number | null;
}

/** Default cap on delegations held: 10,000 (revoked and expired ones are pruned first). */
export const DEFAULT_MAX_DELEGATIONS = 10_000;

/** Options of `new DelegationProtocol`. */
export interface DelegationOptions {
  clock?: Clock;
  /** Root scopes: the actions each agent holds in its own right. */
  roots?: Record<string, readonly string[]>;
  /** Delegations held (default `DEFAULT_MAX_DELEGATIONS`). */
  maxDelegations?: number;
}

/** Counters of a DelegationProtocol. */
export interface DelegationStats {
  delegated: number;
  /** Delegations revoked, cascades included. */
  revoked: number;
  /** Delegations or revocations refused by policy. */
  refused: number;
  /** Dead (revoked or expired) delegations dropped to make room. */
  pruned: number;
}

/**
 * Delegation of scoped permissions with optional expiry and cascading revocation.
 *
 * An agent may delegate only actions it holds now (root scope or a live delegation); a
 * re-delegation records the delegations it came from, and stays valid only while they do:
 * revoking (or the expiry of) a delegation takes every re-delegation made from it with it.
 * Only the delegator may revoke.
 */
export class DelegationProtocol {
  readonly #clock: Clock;
  readonly #max: number;
  readonly #roots = new Map<string, Set<string>>();
  readonly #byId = new Map<string, Delegation>();
  readonly #byDelegatee = new Map<string, Set<string>>();
  readonly #children = new Map<string, Set<string>>();
  readonly #stats: DelegationStats = { delegated: 0, revoked: 0, refused: 0, pruned: 0 };

  constructor(options: DelegationOptions = {}) {
    this.#clock = options.clock ?? Date.now;
    this.#max = positiveIntOption(options.maxDelegations, DEFAULT_MAX_DELEGATIONS, 'maxDelegations', 'validation');
    for (const [agent, actions] of Object.entries(options.roots ?? {})) this.grantRoot(agent, actions);
  }

  /** A snapshot of the counters. */
  stats(): DelegationStats {
    return { ...this.#stats };
  }

  /** Adds `actions` to `agentId`'s root scope. */
  grantRoot(agentId: string, actions: readonly string[]): void {
    requireId(agentId, 'agentId');
    let set = this.#roots.get(agentId);
    if (!set) this.#roots.set(agentId, (set = new Set()));
    for (const a of actions) set.add(requireId(a, 'action'));
  }

  /** Whether `agentId` may perform `action` now (root scope or a live delegation chain). */
  isAllowed(agentId: string, action: string): boolean {
    if (this.#roots.get(agentId)?.has(action)) return true;
    return this.#source(agentId, action, this.#clock()) !== undefined;
  }

  /**
   * `delegator` grants `scope.actions` to `delegatee`. Every action must be in the delegator's
   * current scope, else `PolicyError`. Returns the delegation (with its id).
   */
  delegate(delegator: string, delegatee: string, scope: DelegationScope): Delegation {
    requireId(delegator, 'delegator');
    requireId(delegatee, 'delegatee');
    if (delegator === delegatee) throw new ValidationError('an agent cannot delegate to itself');
    if (!scope || !Array.isArray(scope.actions) || scope.actions.length === 0) throw new ValidationError('a delegation needs a non-empty actions list');
    const now = this.#clock();
    const expiresAt = scope.expiresAt ?? null;
    if (expiresAt !== null && (!Number.isFinite(expiresAt) || expiresAt <= now)) throw new ValidationError('expiresAt must be a future Unix ms');
    const actions = [...new Set(scope.actions.map((a) => requireId(a, 'action')))];
    const parents = new Set<string>();
    for (const action of actions) {
      if (this.#roots.get(delegator)?.has(action)) continue;
      const src = this.#source(delegator, action, now);
      if (src === undefined) {
        this.#stats.refused++;
        throw new PolicyError(`${delegator} does not hold ${JSON.stringify(action)} and cannot delegate it`);
      }
      parents.add(src);
    }
    this.#makeRoom(now);
    const d: Delegation = { id: uuid4(), delegator, delegatee, actions, expiresAt, createdAt: now, parents: [...parents], revoked: false };
    this.#byId.set(d.id, d);
    addTo(this.#byDelegatee, delegatee, d.id);
    for (const p of d.parents) addTo(this.#children, p, d.id);
    this.#stats.delegated++;
    return copy(d);
  }

  /**
   * Revokes a delegation and, in cascade, every re-delegation made from it. Only its
   * delegator may (`PolicyError`); unknown id → `NotFoundError`. Returns the ids revoked.
   */
  revoke(delegationId: string, by: string): string[] {
    const d = this.#byId.get(delegationId);
    if (!d) throw new NotFoundError(`no delegation ${delegationId}`);
    if (d.delegator !== by) {
      this.#stats.refused++;
      throw new PolicyError(`only ${d.delegator} may revoke delegation ${delegationId}, not ${by}`);
    }
    const out: string[] = [];
    const stack = [delegationId];
    while (stack.length > 0) {
      const id = stack.pop()!;
      const x = this.#byId.get(id);
      if (!x || x.revoked) continue;
      x.revoked = true;
      out.push(id);
      for (const c of this.#children.get(id) ?? []) stack.push(c);
    }
    this.#stats.revoked += out.length;
    return out;
  }

  /** The delegation (a copy), or `NotFoundError`. */
  getDelegation(delegationId: string): Delegation {
    const d = this.#byId.get(delegationId);
    if (!d) throw new NotFoundError(`no delegation ${delegationId}`);
    return copy(d);
  }

  /** Live delegations granted to `agentId`. */
  delegationsTo(agentId: string): Delegation[] {
    const now = this.#clock();
    return [...(this.#byDelegatee.get(agentId) ?? [])]
      .map((id) => this.#byId.get(id)!)
      .filter((d) => this.#live(d, now))
      .map(copy);
  }

  /** A live delegation that gives `agentId` the `action`, or `undefined`. */
  #source(agentId: string, action: string, now: number): string | undefined {
    for (const id of this.#byDelegatee.get(agentId) ?? []) {
      const d = this.#byId.get(id)!;
      if (d.actions.includes(action) && this.#live(d, now)) return id;
    }
    return undefined;
  }

  // Live = not revoked, not expired, and every delegation it came from is live. Parents are
  // older than their children, so the recursion ends.
  #live(d: Delegation, now: number): boolean {
    if (d.revoked || (d.expiresAt !== null && now >= d.expiresAt)) return false;
    for (const p of d.parents) {
      const pd = this.#byId.get(p);
      if (!pd || !this.#live(pd, now)) return false;
    }
    return true;
  }

  #makeRoom(now: number): void {
    if (this.#byId.size < this.#max) return;
    for (const d of this.#byId.values()) {
      if (!this.#live(d, now)) this.#remove(d);
    }
    if (this.#byId.size >= this.#max) throw new LimitExceededError(`${this.#max} live delegations; cannot add another`);
  }

  #remove(d: Delegation): void {
    this.#byId.delete(d.id);
    this.#byDelegatee.get(d.delegatee)?.delete(d.id);
    this.#children.delete(d.id);
    for (const p of d.parents) this.#children.get(p)?.delete(d.id);
    this.#stats.pruned++;
  }
}

function addTo(m: Map<string, Set<string>>, k: string, v: string): void {
  let s = m.get(k);
  if (!s) m.set(k, (s = new Set()));
  s.add(v);
}

function copy(d: Delegation): Delegation {
  return { ...d, actions: [...d.actions], parents: [...d.parents] };
}
