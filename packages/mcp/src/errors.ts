import { LimitExceededError, PolicyError, ValidationError, errorClass, type ConvergeErrorOptions } from '@converge/core';

/**
 * A tool whose definition differs from the one pinned for it: calls are refused (outcome
 * `refused`) until the new definition is accepted with `McpToolset.accept`.
 */
export class ToolDefinitionChangedError extends errorClass('ToolDefinitionChangedError', 'ERR_MCP_TOOL_CHANGED', undefined, PolicyError) {
  /** The namespaced tool (`server/tool`). */
  readonly tool: string;
  /** The pinned definition's hash (sha-256, hex). */
  readonly pinned: string;
  /** The hash of the definition the server now lists. */
  readonly offered: string;
  constructor(tool: string, pinned: string, offered: string, options?: ConvergeErrorOptions) {
    super(`tool ${tool} changed its definition (pinned ${pinned.slice(0, 12)}…, now ${offered.slice(0, 12)}…); refused until accepted`, options);
    this.tool = tool;
    this.pinned = pinned;
    this.offered = offered;
  }
}

/** A tool never pinned, listed while trust on first use is off: refused until accepted. */
export class ToolNotPinnedError extends errorClass('ToolNotPinnedError', 'ERR_MCP_TOOL_NOT_PINNED', undefined, PolicyError) {
  /** The namespaced tool (`server/tool`). */
  readonly tool: string;
  /** The hash of the definition the server lists. */
  readonly offered: string;
  constructor(tool: string, offered: string, options?: ConvergeErrorOptions) {
    super(`tool ${tool} has no pinned definition (offered ${offered.slice(0, 12)}…); refused until accepted`, options);
    this.tool = tool;
    this.offered = offered;
  }
}

/** A tool the server no longer lists (its Converge tool stays registered and refuses calls). */
export class ToolRemovedError extends errorClass('ToolRemovedError', 'ERR_MCP_TOOL_REMOVED', undefined, PolicyError) {
  constructor(tool: string, options?: ConvergeErrorOptions) {
    super(`tool ${tool} is no longer listed by its MCP server`, options);
  }
}

/**
 * Tool input that does not match the tool's JSON Schema: the call is never sent. A
 * `PolicyError` (not a `ValidationError`), so its outcome is `refused`: nothing ran.
 */
export class ToolInputInvalidError extends errorClass('ToolInputInvalidError', 'ERR_MCP_INPUT_INVALID', undefined, PolicyError) {
  /** The namespaced tool (`server/tool`). */
  readonly tool: string;
  /** Ajv's error list, at most `MAX_REPORTED_SCHEMA_ERRORS` entries. */
  readonly errors: readonly { instancePath: string; message: string }[];
  constructor(tool: string, errors: readonly { instancePath: string; message: string }[], options?: ConvergeErrorOptions) {
    super(`input of tool ${tool} does not match its schema: ${errors.map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ')}`, options);
    this.tool = tool;
    this.errors = errors;
  }
}

/** A tool definition the toolset cannot use (bad name, schema too large or not compilable). */
export class ToolDefinitionInvalidError extends errorClass('ToolDefinitionInvalidError', 'ERR_VALIDATION', undefined, ValidationError) {}

/** A tool result larger than `maxResultBytes` (dropped, never handed to the agent). */
export class ToolResultTooLargeError extends errorClass('ToolResultTooLargeError', 'ERR_LIMIT_EXCEEDED', undefined, LimitExceededError) {
  /** Size of the refused result in bytes (its JSON form). */
  readonly size: number;
  /** The limit in force. */
  readonly limit: number;
  constructor(tool: string, size: number, limit: number, options?: ConvergeErrorOptions) {
    super(`result of tool ${tool} is ${size} bytes, over the limit of ${limit}`, options);
    this.size = size;
    this.limit = limit;
  }
}

/** A server listing more tools (or more pages) than the toolset accepts. */
export class ToolListTooLargeError extends errorClass('ToolListTooLargeError', 'ERR_LIMIT_EXCEEDED', undefined, LimitExceededError) {}

/** A tool that ran and reported an error (`isError: true` in its MCP result). */
export class McpToolCallError extends errorClass('McpToolCallError', 'ERR_MCP_TOOL_CALL') {
  /** The tool's own text content, as it reported the error (cut to 1,024 characters). */
  readonly detail: string;
  constructor(tool: string, detail: string, options?: ConvergeErrorOptions) {
    super(`tool ${tool} reported an error: ${detail}`, options);
    this.detail = detail;
  }
}

/** The MCP connection is not open (never connected, closed, or the server went away). */
export class McpNotConnectedError extends errorClass('McpNotConnectedError', 'ERR_MCP_NOT_CONNECTED', 'the MCP connection is not open') {}

/** An MCP request (list, call) that failed at the protocol or transport level. */
export class McpRequestError extends errorClass('McpRequestError', 'ERR_MCP_REQUEST') {
  /** The JSON-RPC error code, when the server sent one. */
  readonly rpcCode?: number;
  constructor(message: string, options?: ConvergeErrorOptions & { rpcCode?: number }) {
    super(message, options);
    this.rpcCode = options?.rpcCode;
  }
}
