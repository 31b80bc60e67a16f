import { ConflictError, NotFoundError } from './errors.js';
import type { WireRecord, WireValue } from './value.js';

/** Context handed to a tool run. */
export interface ToolRunContext {
  /** Aborted when the call times out or its caller gives up; tools should stop then. */
  signal: AbortSignal;
}

/** A named function an agent can invoke through an `InvokeTool` decision. */
export interface Tool {
  name: string;
  description?: string;
  run(params: WireRecord, context: ToolRunContext): Promise<WireValue> | WireValue;
}

/** A registry of tools by name (an instance per agent or runtime; no global registry). */
export class ToolRegistry {
  readonly #tools = new Map<string, Tool>();

  constructor(tools: Iterable<Tool> = []) {
    for (const t of tools) this.register(t);
  }

  /** Registers a tool; a second tool with the same name is a `ConflictError`. */
  register(tool: Tool): this {
    if (this.#tools.has(tool.name)) throw new ConflictError(`tool ${tool.name} is already registered`);
    this.#tools.set(tool.name, tool);
    return this;
  }

  /** Removes a tool; returns whether it was there. */
  unregister(name: string): boolean {
    return this.#tools.delete(name);
  }

  /** The tool of that name, or `undefined`. */
  get(name: string): Tool | undefined {
    return this.#tools.get(name);
  }

  /** The tool of that name, or `NotFoundError`. */
  require(name: string): Tool {
    const t = this.#tools.get(name);
    if (!t) throw new NotFoundError(`no tool named ${name}`);
    return t;
  }

  /** Whether a tool of that name is registered. */
  has(name: string): boolean {
    return this.#tools.has(name);
  }

  /** Registered tool names. */
  names(): string[] {
    return [...this.#tools.keys()];
  }
}
