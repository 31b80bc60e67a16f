import { Identity } from './identity.js';
import { AGENT_BRAND, hasBrand } from './brand.js';
import { CapabilitySet, type Capability } from './capability.js';
import type { Topic } from './topic.js';
import type { Message } from './message.js';
import { signMessage } from './message.js';
import type { Task } from './task.js';
import type { Decision } from './decisions.js';
import type { DecideContext } from './outcome.js';

/** Options for the `Agent` base class. */
export interface AgentOptions {
  /** The agent's key pair; a new one is generated when omitted. */
  identity?: Identity;
  capabilities?: Iterable<Capability | string>;
  topics?: Topic[];
}

/**
 * Base class of every agent. Subclasses implement `decide`: given the messages that arrived,
 * the tasks on offer and the outcomes of its previous decisions, return the decisions to carry
 * out. The runtime calls the hooks.
 */
export abstract class Agent {
  /** Brand (see `isAgent`). */
  readonly [AGENT_BRAND] = true as const;
  readonly identity: Identity;
  readonly capabilities: CapabilitySet;
  readonly topics: Topic[];

  constructor(options: AgentOptions = {}) {
    this.identity = options.identity ?? Identity.generate();
    this.capabilities = new CapabilitySet(options.capabilities ?? []);
    this.topics = [...(options.topics ?? [])];
  }

  /** The agent's id: its identity's fingerprint. */
  get id(): string {
    return this.identity.fingerprint;
  }

  /**
   * Chooses what to do; may be sync or async. `context.outcomes` holds what became of the
   * decisions of the previous turn (the runtime always passes a context; an agent that does
   * not need it declares two parameters).
   */
  abstract decide(messages: readonly Message[], tasks: readonly Task[], context?: DecideContext): Decision[] | Promise<Decision[]>;

  /** Called once when the runtime starts the agent. */
  onStart(): void | Promise<void> {}

  /** Called once when the runtime stops the agent. */
  onStop(): void | Promise<void> {}

  /** Called on each runtime loop turn, before `decide`. */
  onTick(): void | Promise<void> {}

  /** Signs a message with this agent's identity (sets `sender` to its fingerprint). */
  signMessage(msg: Message): Message {
    return signMessage(msg, this.identity);
  }
}

/**
 * Whether `value` is an `Agent`, from any copy of core (it carries the brand
 * `Symbol.for('@converge/agent')`): the cross-copy form of `instanceof Agent`.
 */
export function isAgent(value: unknown): value is Agent {
  return hasBrand(value, AGENT_BRAND);
}
