import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ErrorCode, McpError, ToolListChangedNotificationSchema, type CallToolResult, type Tool as McpTool } from '@modelcontextprotocol/sdk/types.js';
import {
  AbortError,
  ConfigError,
  ConflictError,
  ConvergeError,
  LimitExceededError,
  NotFoundError,
  TimeoutError,
  ValidationError,
  throwIfAborted,
  type Tool,
  type ToolRegistry,
  type WireRecord,
  type WireValue,
} from '@converge/core';
import type { Logger, Metrics } from '@converge/core';
import { canonicalJson, definitionHash, pinnedDefinition } from './canonical.js';
import {
  McpNotConnectedError,
  McpRequestError,
  McpToolCallError,
  ToolDefinitionChangedError,
  ToolDefinitionInvalidError,
  ToolInputInvalidError,
  ToolListTooLargeError,
  ToolNotPinnedError,
  ToolRemovedError,
  ToolResultTooLargeError,
} from './errors.js';
import { paramsToJson } from './json.js';
import { ToolPins } from './pins.js';
import { SchemaCompiler, type InputCheck } from './schema.js';
import { createTransport, DEFAULT_MAX_MESSAGE_BYTES, type McpTransportConfig } from './transports.js';
import { ToolsetCounters, type McpToolsetStats } from './counters.js';

/** Default most tools one server may list (past it the listing is refused). */
export const DEFAULT_MAX_TOOLS = 128;
/** Default most `tools/list` pages followed in one listing. */
export const DEFAULT_MAX_LIST_PAGES = 16;
/** Default most bytes of one tool definition (canonical JSON); a larger one is not usable. */
export const DEFAULT_MAX_DEFINITION_BYTES = 64 * 1024;
/** Default most bytes of one tool result (JSON of its content and structured content). */
export const DEFAULT_MAX_RESULT_BYTES = 1024 * 1024;
/** Default per-request timeout of the MCP client (the SDK's own default), a backstop behind the executor's. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

/** MCP tool names (spec 2025-11-25): 1–128 of letters, digits, `_`, `-`, `.`. Server names the same. */
/** How one tool call ended, as counted. */
type CallOutcome = Parameters<ToolsetCounters['call']>[0];

const NAME = /^[A-Za-z0-9_.-]{1,128}$/;

/** Options of `McpToolset`. */
export interface McpToolsetOptions {
  /** The server's name: its tools are `<name><separator><tool>` (letters, digits, `_`, `-`, `.`). */
  name: string;
  /** How to reach the server. */
  transport: McpTransportConfig;
  /**
   * Between the server's name and a tool's (default `/`). LLM providers take tool names of
   * `^[A-Za-z0-9_-]{1,64}$` only: a toolset whose tools are offered to a model uses e.g. `__`.
   */
  separator?: string;
  /** The pins honoured and updated (default a new, empty `ToolPins`). */
  pins?: ToolPins;
  /**
   * Whether a tool seen for the first time (no pin) is pinned to the definition it comes with
   * (default `true`). With `false`, every unpinned tool is refused until `accept`ed.
   */
  trustOnFirstUse?: boolean;
  /** Most tools the server may list (default `DEFAULT_MAX_TOOLS`). */
  maxTools?: number;
  /** Most `tools/list` pages one listing follows (default `DEFAULT_MAX_LIST_PAGES`). */
  maxListPages?: number;
  /** Most bytes of one tool definition (default `DEFAULT_MAX_DEFINITION_BYTES`). */
  maxDefinitionBytes?: number;
  /** Most bytes of one tool result (default `DEFAULT_MAX_RESULT_BYTES`). */
  maxResultBytes?: number;
  /** Most bytes of one MCP message: stdio line, HTTP response (default `DEFAULT_MAX_MESSAGE_BYTES`). */
  maxMessageBytes?: number;
  /** Per-request timeout of the MCP client, ms (default `DEFAULT_REQUEST_TIMEOUT_MS`). */
  requestTimeoutMs?: number;
  /** How the client introduces itself (default `converge` / `0.1.0`). */
  clientInfo?: { name: string; version: string };
  /** Logs refusals and session events (default: nothing is logged, as with `noopLogger`). */
  logger?: Logger;
  /** Counts calls and refusals (default `noopMetrics`; `prometheusMetrics()` of `@converge/observability` fits). */
  metrics?: Metrics;
}

/** Where a listed tool stands. */
export type McpToolState = 'ready' | 'changed' | 'unpinned' | 'removed' | 'invalid';

/** What the toolset knows of one tool. */
export interface McpToolInfo {
  /** The Converge tool's name (`server/tool`). */
  name: string;
  /** The tool's name on its server. */
  mcpName: string;
  state: McpToolState;
  /** Hash of the definition the server lists now (or listed last). */
  offered: string;
  /** The pinned hash, if any. */
  pinned?: string;
  /** The definition as listed (what `accept` would pin). */
  definition: McpTool;
  /** Why the tool is `invalid`. */
  reason?: string;
}

/** What one listing changed. */
export interface McpRefreshSummary {
  /** Tools listed for the first time. */
  added: string[];
  /** Tools now refused because their definition differs from their pin. */
  changed: string[];
  /** Tools no longer listed. */
  removed: string[];
}

interface Entry {
  readonly name: string;
  readonly mcpName: string;
  readonly tool: Tool;
  definition: McpTool;
  offered: string;
  listed: boolean;
  invalid?: string;
  /** The last definition that matched its pin (what `tool.description` shows). */
  accepted?: McpTool;
  /** The compiled input schema of `checkedHash`'s definition. */
  check?: InputCheck;
  checkedHash?: string;
}

/**
 * The tools of one MCP server as Converge tools. `connect()` starts the session (stdio child
 * process or Streamable HTTP) and lists the tools; `register(registry)` puts them in a
 * `ToolRegistry`, where a `StandardExecutor` runs them under its allowlist, timeout and
 * concurrency limits and hands results back as outcomes. Each call's input is validated
 * against the tool's JSON Schema (Ajv) before it is sent.
 *
 * Each definition is pinned by hash (`definitionHash`): when the server lists a different one
 * (a `tools/list_changed` notification or `refresh()`), calls are refused with
 * `ToolDefinitionChangedError` (counted) until `accept(name, hash)` pins the new one.
 */
export class McpToolset {
  readonly #o: McpToolsetOptions;
  readonly #name: string;
  readonly #sep: string;
  readonly #pins: ToolPins;
  readonly #tofu: boolean;
  readonly #entries = new Map<string, Entry>();
  readonly #registries = new Set<ToolRegistry>();
  readonly #schemas = new SchemaCompiler();
  readonly #counters: ToolsetCounters;
  readonly #limits: { tools: number; pages: number; definition: number; result: number; message: number; timeout: number };
  #client: Client | undefined;
  #open = false;
  #closing = false;
  #refreshing: Promise<unknown> = Promise.resolve();
  #refreshQueued = false;
  /** Why the toolset closed the session itself (an oversize message). */
  #closeReason: Error | undefined;

  /** @param options - the server and the limits; nothing is started before `connect()`. */
  constructor(options: McpToolsetOptions) {
    if (typeof options?.name !== 'string' || !NAME.test(options.name))
      throw new ConfigError('an MCP server name is 1-128 letters, digits, _, - or .', { key: 'name' });
    this.#o = options;
    this.#name = options.name;
    this.#sep = options.separator ?? '/';
    if (this.#sep.length === 0 || this.#sep.length > 8) throw new ConfigError('an MCP separator is 1-8 characters', { key: 'separator' });
    this.#pins = options.pins ?? new ToolPins();
    this.#tofu = options.trustOnFirstUse ?? true;
    this.#limits = {
      tools: positive(options.maxTools, DEFAULT_MAX_TOOLS, 'maxTools'),
      pages: positive(options.maxListPages, DEFAULT_MAX_LIST_PAGES, 'maxListPages'),
      definition: positive(options.maxDefinitionBytes, DEFAULT_MAX_DEFINITION_BYTES, 'maxDefinitionBytes'),
      result: positive(options.maxResultBytes, DEFAULT_MAX_RESULT_BYTES, 'maxResultBytes'),
      message: positive(options.maxMessageBytes, DEFAULT_MAX_MESSAGE_BYTES, 'maxMessageBytes'),
      timeout: positive(options.requestTimeoutMs, DEFAULT_REQUEST_TIMEOUT_MS, 'requestTimeoutMs'),
    };
    this.#counters = new ToolsetCounters(this.#name, options.metrics);
  }

  /** The server's name (the tools' namespace). */
  get name(): string {
    return this.#name;
  }

  /** The pins this toolset honours and updates. */
  get pins(): ToolPins {
    return this.#pins;
  }

  /** Whether the session is open. */
  get connected(): boolean {
    return this.#open;
  }

  /**
   * Opens the session (spawns the stdio server, or initialises over HTTP) and lists the tools.
   * A failed start closes what it opened and throws (`McpRequestError`, `ToolListTooLargeError`, …).
   */
  async connect(options: { signal?: AbortSignal } = {}): Promise<McpRefreshSummary> {
    if (this.#client !== undefined) throw new ConflictError(`MCP server ${this.#name} is already connected (or was closed; make a new toolset)`);
    throwIfAborted(options.signal);
    const client = new Client(this.#o.clientInfo ?? { name: 'converge', version: '0.1.0' }, { capabilities: {} });
    this.#client = client;
    client.onclose = () => {
      const wasOpen = this.#open;
      this.#open = false;
      if (wasOpen && !this.#closing) this.#o.logger?.warn({ server: this.#name }, 'MCP session closed by the server or transport');
    };
    client.onerror = (err) => {
      // The SDK's stdio transport closes itself past its read-buffer bound: counted as ours.
      if (/ReadBuffer exceeded maximum size/.test(err.message))
        this.#oversize(new LimitExceededError(`MCP message exceeds the limit of ${this.#limits.message} bytes`, { cause: err }));
      else this.#o.logger?.warn({ server: this.#name, err }, 'MCP transport error');
    };
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => this.#onListChanged());
    try {
      const transport = createTransport(this.#o.transport, this.#limits.message, (err) => this.#oversize(err));
      await client.connect(transport, { signal: options.signal, timeout: this.#limits.timeout });
      this.#open = true;
      return await this.refresh(options);
    } catch (err) {
      this.#closing = true;
      this.#open = false;
      await client.close().catch(() => {});
      throw this.#requestError(err, options.signal, `connecting to MCP server ${this.#name}`);
    }
  }

  // A message over maxMessageBytes: the session is closed (as the SDK's stdio transport does),
  // which fails the calls in flight; counted and logged.
  #oversize(err: Error): void {
    if (this.#closeReason !== undefined) return;
    this.#closeReason = err;
    this.#counters.definitionRefused('message_too_large');
    this.#o.logger?.warn({ server: this.#name, err }, 'MCP message over the size limit; session closed');
    void this.close().catch(() => {});
  }

  /** Closes the session (a stdio server is stopped). Registered tools stay and refuse calls. */
  async close(): Promise<void> {
    this.#closing = true;
    this.#open = false;
    await this.#client?.close();
  }

  /**
   * Lists the server's tools again (follows pages, bounded) and applies the pins: new tools are
   * pinned (trust on first use) or left unpinned, a changed definition is refused until
   * accepted, missing tools refuse calls. Listings run one at a time.
   */
  refresh(options: { signal?: AbortSignal } = {}): Promise<McpRefreshSummary> {
    const run = this.#refreshing.then(() => this.#list(options.signal));
    this.#refreshing = run.catch(() => {});
    return run;
  }

  /**
   * Pins the definition the server lists now for `name`, which must hash to `hash` (the value
   * shown in `pending()` or the `ToolDefinitionChangedError`): the caller accepts a definition
   * it has seen, not whatever the server lists at that moment (`ConflictError` otherwise).
   */
  accept(name: string, hash: string): void {
    const entry = this.#entries.get(name);
    if (entry === undefined) throw new NotFoundError(`no MCP tool named ${name}`);
    if (!entry.listed) throw new ConflictError(`tool ${name} is no longer listed by ${this.#name}`);
    if (entry.offered !== hash) throw new ConflictError(`tool ${name}'s listed definition hashes ${entry.offered}, not ${hash}`);
    if (entry.invalid !== undefined) throw new ToolDefinitionInvalidError(`tool ${name} cannot be used: ${entry.invalid}`);
    this.#compile(entry);
    this.#pins.set(name, hash);
    entry.accepted = entry.definition;
    this.#o.logger?.info({ server: this.#name, tool: name, hash }, 'MCP tool definition accepted');
  }

  /** Every tool listed so far, with its state. */
  info(): McpToolInfo[] {
    return [...this.#entries.values()].map((e) => this.#info(e));
  }

  /** Tools waiting for `accept`: changed, or unpinned without trust on first use. */
  pending(): McpToolInfo[] {
    return this.info().filter((i) => i.state === 'changed' || i.state === 'unpinned');
  }

  /** The Converge tools (one per tool ever listed; their `run` checks the tool's state per call). */
  tools(): Tool[] {
    return [...this.#entries.values()].map((e) => e.tool);
  }

  /** The names of the Converge tools (for an executor's `toolAllowlist`). */
  toolNames(): string[] {
    return [...this.#entries.keys()];
  }

  /**
   * The ready tools as chat tool specs (`name`, `description`, `parameters` = the input schema),
   * for an LLM agent's `tools` option.
   */
  toolSpecs(): { name: string; description?: string; parameters: Record<string, unknown> }[] {
    return this.info()
      .filter((i) => i.state === 'ready')
      .map((i) => ({
        name: i.name,
        ...(i.definition.description ? { description: i.definition.description } : {}),
        parameters: i.definition.inputSchema as Record<string, unknown>,
      }));
  }

  /**
   * Registers the tools in `registry`, and every tool listed later (on a refresh) as well.
   * A name the registry already holds from elsewhere is a `ConflictError`.
   */
  register(registry: ToolRegistry): this {
    for (const e of this.#entries.values()) if (registry.get(e.name) !== e.tool) registry.register(e.tool);
    this.#registries.add(registry);
    return this;
  }

  // A tool listed after `register`: a name the registry holds from elsewhere is logged and
  // counted (`invalid`), and the listing goes on.
  #registerIn(registry: ToolRegistry, entry: Entry): void {
    try {
      registry.register(entry.tool);
    } catch (err) {
      this.#counters.definitionRefused('invalid');
      this.#o.logger?.warn({ server: this.#name, tool: entry.name, err }, 'MCP tool not registered: the registry already holds that name');
    }
  }

  /** Counters since construction (calls by outcome, refusals by reason, listings). */
  stats(): McpToolsetStats {
    return this.#counters.snapshot();
  }

  #onListChanged(): void {
    // One refresh queued at most: a burst of notifications costs one more listing.
    if (this.#refreshQueued) return;
    this.#refreshQueued = true;
    void this.#refreshing.then(() => {
      this.#refreshQueued = false;
      return this.refresh().catch((err: unknown) => this.#o.logger?.warn({ server: this.#name, err }, 'MCP tool list refresh failed'));
    });
  }

  async #list(signal: AbortSignal | undefined): Promise<McpRefreshSummary> {
    const client = this.#client;
    if (client === undefined || !this.#open) throw new McpNotConnectedError(`MCP server ${this.#name} is not connected`);
    const listed: McpTool[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      if (++pages > this.#limits.pages) throw this.#listTooLarge(`MCP server ${this.#name} lists more than ${this.#limits.pages} pages of tools`);
      let page;
      try {
        page = await client.listTools(cursor === undefined ? undefined : { cursor }, { signal, timeout: this.#limits.timeout });
      } catch (err) {
        throw this.#requestError(err, signal, `listing the tools of ${this.#name}`);
      }
      listed.push(...page.tools);
      if (listed.length > this.#limits.tools) throw this.#listTooLarge(`MCP server ${this.#name} lists more than ${this.#limits.tools} tools`);
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    this.#counters.listing();
    return this.#apply(listed);
  }

  #listTooLarge(message: string): ToolListTooLargeError {
    this.#counters.definitionRefused('list_too_large');
    this.#o.logger?.warn({ server: this.#name }, message);
    return new ToolListTooLargeError(message);
  }

  #apply(listed: readonly McpTool[]): McpRefreshSummary {
    const summary: McpRefreshSummary = { added: [], changed: [], removed: [] };
    const seen = new Set<string>();
    for (const definition of listed) {
      if (typeof definition.name !== 'string' || !NAME.test(definition.name)) {
        this.#counters.definitionRefused('invalid');
        this.#o.logger?.warn({ server: this.#name, tool: String(definition.name).slice(0, 64) }, 'MCP tool with an invalid name ignored');
        continue;
      }
      this.#applyOne(definition, seen, summary);
    }
    for (const entry of this.#entries.values()) {
      if (entry.listed && !seen.has(entry.name)) {
        entry.listed = false;
        summary.removed.push(entry.name);
      }
    }
    return summary;
  }

  /** Takes one listed definition in: its entry (new or updated), its validity, its pin, its compiled schema. */
  #applyOne(definition: McpTool, seen: Set<string>, summary: McpRefreshSummary): void {
    const name = `${this.#name}${this.#sep}${definition.name}`;
    const bytes = Buffer.byteLength(canonicalJson(pinnedDefinition(definition)), 'utf8');
    const offered = definitionHash(definition);
    let entry = this.#entries.get(name);
    const before = entry === undefined ? undefined : { offered: entry.offered, listed: entry.listed, invalid: entry.invalid };
    if (entry === undefined) {
      entry = { name, mcpName: definition.name, tool: this.#makeTool(name), definition, offered, listed: true };
      this.#entries.set(name, entry);
      summary.added.push(name);
      for (const r of this.#registries) this.#registerIn(r, entry);
    }
    entry.definition = definition;
    entry.offered = offered;
    entry.listed = true;
    entry.invalid = undefined;
    if (seen.has(name)) entry.invalid = 'listed twice';
    else if (bytes > this.#limits.definition) entry.invalid = `definition of ${bytes} bytes, over the limit of ${this.#limits.definition}`;
    seen.add(name);
    if (entry.invalid !== undefined) {
      // Counted and logged once per refused definition, not once per listing.
      if (before === undefined || before.offered !== offered || before.invalid === undefined) {
        this.#counters.definitionRefused('invalid');
        this.#o.logger?.warn({ server: this.#name, tool: name, reason: entry.invalid }, 'MCP tool definition refused');
      }
      return;
    }
    this.#checkPin(entry, before, summary);
    if (this.#pins.get(name) === offered) this.#accept(entry);
  }

  /** Pins a new tool on first use (`tofu`), or counts (once per new definition) an unpinned or changed one. */
  #checkPin(entry: Entry, before: { offered: string; listed: boolean } | undefined, summary: McpRefreshSummary): void {
    const { name, offered } = entry;
    const pinned = this.#pins.get(name);
    if (pinned === undefined && this.#tofu) this.#pins.set(name, offered);
    else if (pinned === undefined) {
      if (before === undefined || before.offered !== offered) this.#counters.definitionRefused('unpinned');
    } else if (pinned !== offered && (before === undefined || before.offered !== offered || !before.listed)) {
      // Counted and logged once per new definition, not once per listing.
      summary.changed.push(name);
      this.#counters.definitionRefused('changed');
      this.#o.logger?.warn({ server: this.#name, tool: name, pinned, offered }, 'MCP tool definition changed; calls refused until accepted');
    }
  }

  /** Compiles the pinned definition's input schema; a schema that does not compile marks the tool invalid (counted). */
  #accept(entry: Entry): void {
    try {
      this.#compile(entry);
      entry.accepted = entry.definition;
    } catch (err) {
      entry.invalid = (err as Error).message;
      this.#counters.definitionRefused('invalid');
      this.#o.logger?.warn({ server: this.#name, tool: entry.name, err }, 'MCP tool input schema refused');
    }
  }

  #compile(entry: Entry): InputCheck {
    if (entry.check !== undefined && entry.checkedHash === entry.offered) return entry.check;
    const schema = entry.definition.inputSchema;
    if (schema === null || typeof schema !== 'object' || Array.isArray(schema))
      throw new ToolDefinitionInvalidError(`tool ${entry.name} has no inputSchema object`);
    entry.check = this.#schemas.compile(entry.name, schema as Record<string, unknown>);
    entry.checkedHash = entry.offered;
    return entry.check;
  }

  #state(e: Entry): McpToolState {
    if (!e.listed) return 'removed';
    if (e.invalid !== undefined) return 'invalid';
    const pinned = this.#pins.get(e.name);
    if (pinned === undefined) return 'unpinned';
    return pinned === e.offered ? 'ready' : 'changed';
  }

  #info(e: Entry): McpToolInfo {
    const pinned = this.#pins.get(e.name);
    return {
      name: e.name,
      mcpName: e.mcpName,
      state: this.#state(e),
      offered: e.offered,
      definition: e.definition,
      ...(pinned !== undefined ? { pinned } : {}),
      ...(e.invalid !== undefined ? { reason: e.invalid } : {}),
    };
  }

  // `description` is the accepted definition's: a changed, unreviewed description never shows.
  #makeTool(name: string): Tool {
    const entries = this.#entries;
    return {
      name,
      get description(): string | undefined {
        return entries.get(name)?.accepted?.description;
      },
      run: (params, context) => this.#call(name, params, context.signal),
    };
  }

  async #call(name: string, params: WireRecord, signal: AbortSignal): Promise<WireValue> {
    const entry = this.#entries.get(name)!;
    const outcome = (o: CallOutcome): void => this.#counters.call(o);
    const state = this.#state(entry);
    if (state !== 'ready') {
      outcome(`refused_${state}`);
      throw this.#refusal(entry, state);
    }
    const args = this.#checkedArgs(entry, params, outcome);
    const client = this.#client;
    if (client === undefined || !this.#open) {
      outcome('failed');
      throw new McpNotConnectedError(`MCP server ${this.#name} is not connected`);
    }
    let result: CallToolResult;
    // The SDK leaves a listener on the signal it is given: it gets a per-call one, linked to the
    // caller's, so a long-lived caller signal does not collect a listener per call.
    const call = new AbortController();
    const forward = (): void => call.abort(signal.reason);
    signal.addEventListener('abort', forward, { once: true });
    try {
      throwIfAborted(signal);
      result = (await client.callTool({ name: entry.mcpName, arguments: args }, undefined, {
        signal: call.signal,
        timeout: this.#limits.timeout,
      })) as CallToolResult;
    } catch (err) {
      const error = this.#requestError(err, signal, `calling tool ${name}`);
      outcome(TimeoutError.is(error) ? 'timeout' : 'failed');
      throw error;
    } finally {
      signal.removeEventListener('abort', forward);
    }
    return this.#resultOf(name, result, outcome);
  }

  /** The call's arguments as JSON, checked against the input schema (`ToolInputInvalidError`, counted). */
  #checkedArgs(entry: Entry, params: WireRecord, outcome: (o: CallOutcome) => void): Record<string, unknown> {
    let args: Record<string, unknown>;
    let violations;
    try {
      args = paramsToJson(params ?? {});
      violations = this.#compile(entry)(args);
    } catch (err) {
      outcome('refused_input');
      if (ValidationError.is(err)) throw new ToolInputInvalidError(entry.name, [{ instancePath: '', message: err.message }], { cause: err });
      throw err;
    }
    if (violations !== null) {
      outcome('refused_input');
      throw new ToolInputInvalidError(entry.name, violations);
    }
    return args;
  }

  /** The tool's content (and structured content) within the result size limit; a tool-reported error throws. */
  #resultOf(name: string, result: CallToolResult, outcome: (o: CallOutcome) => void): WireValue {
    const value: Record<string, unknown> = { content: Array.isArray(result.content) ? result.content : [] };
    if (result.structuredContent !== undefined) value.structuredContent = result.structuredContent;
    const size = Buffer.byteLength(JSON.stringify(value), 'utf8');
    if (size > this.#limits.result) {
      outcome('refused_too_large');
      this.#o.logger?.warn({ server: this.#name, tool: name, size, limit: this.#limits.result }, 'MCP tool result over the size limit dropped');
      throw new ToolResultTooLargeError(name, size, this.#limits.result);
    }
    if (result.isError === true) {
      outcome('tool_error');
      throw new McpToolCallError(name, textOf(result).slice(0, 1024));
    }
    outcome('ok');
    return value as WireValue;
  }

  #refusal(entry: Entry, state: Exclude<McpToolState, 'ready'>): Error {
    switch (state) {
      case 'changed':
        return new ToolDefinitionChangedError(entry.name, this.#pins.get(entry.name)!, entry.offered);
      case 'unpinned':
        return new ToolNotPinnedError(entry.name, entry.offered);
      case 'removed':
        return new ToolRemovedError(entry.name);
      case 'invalid':
        return new ToolDefinitionInvalidError(`tool ${entry.name} cannot be used: ${entry.invalid}`);
    }
  }

  // Maps what the SDK throws to Converge's errors: the caller's abort reason (the executor's
  // TimeoutError), a request timeout as TimeoutError, JSON-RPC errors as McpRequestError.
  #requestError(err: unknown, signal: AbortSignal | undefined, what: string): Error {
    if (signal?.aborted) return signal.reason instanceof Error ? signal.reason : new AbortError(`${what} was aborted`, { cause: signal.reason });
    if (ConvergeError.is(err)) return err;
    if (err instanceof McpError) {
      if (err.code === (ErrorCode.RequestTimeout as number)) return new TimeoutError(`${what} timed out`, { cause: err });
      if (err.code === (ErrorCode.ConnectionClosed as number)) {
        const reason = this.#closeReason;
        return new McpNotConnectedError(`${what}: the MCP connection closed${reason ? `: ${reason.message}` : ''}`, { cause: reason ?? err });
      }
      return new McpRequestError(`${what} failed: ${err.message}`, { cause: err, rpcCode: err.code });
    }
    const cause = err instanceof Error ? err.cause : undefined;
    if (ConvergeError.is(cause)) return cause;
    return new McpRequestError(`${what} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/** The text parts of a tool result, joined. */
function textOf(result: CallToolResult): string {
  const parts = Array.isArray(result.content) ? result.content : [];
  return (
    parts
      .map((p) => (p && p.type === 'text' ? p.text : ''))
      .filter((t) => t.length > 0)
      .join('\n') || 'no detail'
  );
}

function positive(value: number | undefined, fallback: number, key: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw new ConfigError(`${key} must be a positive integer`, { key });
  return value;
}
