import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ConfigError, LimitExceededError } from '@converge/core';

/** An MCP server run as a child process, spoken to over its stdin/stdout. */
export interface McpStdioConfig {
  type: 'stdio';
  /** The executable (e.g. `process.execPath` for a Node script). */
  command: string;
  args?: readonly string[];
  /**
   * The child's environment. Default: the SDK's short list of safe variables (`PATH`, `HOME`,
   * …), never the whole parent environment (secrets stay out of the child).
   */
  env?: Readonly<Record<string, string>>;
  cwd?: string;
  /** The child's stderr: `inherit` (the default, as the SDK does), `pipe` or `ignore`. */
  stderr?: 'inherit' | 'pipe' | 'ignore';
}

/** An MCP server at a Streamable HTTP endpoint (e.g. `http://127.0.0.1:3000/mcp`). */
export interface McpHttpConfig {
  type: 'http';
  url: string | URL;
  /** Headers sent with every request (e.g. `authorization`). */
  headers?: Readonly<Record<string, string>>;
}

/** A transport built by the caller from the SDK (any `Transport` of `@modelcontextprotocol/sdk`). */
export interface McpCustomConfig {
  type: 'custom';
  transport: Transport;
}

/** Where an MCP server is and how to reach it. */
export type McpTransportConfig = McpStdioConfig | McpHttpConfig | McpCustomConfig;

/** Default most bytes of one MCP message (stdio line, HTTP response body). */
export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/**
 * Builds the SDK client transport of `config`; one message is at most `maxMessageBytes`. Past
 * it the stdio transport closes itself (the SDK's behaviour); for HTTP `onOversize` is called,
 * and the caller closes the session the same way (a server that oversteps is not trusted on).
 */
export function createTransport(config: McpTransportConfig, maxMessageBytes: number, onOversize: (err: LimitExceededError) => void = () => {}): Transport {
  switch (config.type) {
    case 'stdio':
      if (!config.command) throw new ConfigError('an MCP stdio server needs a command');
      return new StdioClientTransport({
        command: config.command,
        args: [...(config.args ?? [])],
        env: { ...(config.env ?? getDefaultEnvironment()) },
        ...(config.cwd !== undefined ? { cwd: config.cwd } : {}),
        stderr: config.stderr ?? 'inherit',
        // The SDK's own bound on its read buffer: a longer line closes the transport.
        maxBufferSize: maxMessageBytes,
      });
    case 'http': {
      let url: URL;
      try {
        url = new URL(config.url);
      } catch (err) {
        throw new ConfigError(`invalid MCP server URL ${String(config.url)}`, { cause: err });
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`an MCP HTTP server URL is http(s), not ${url.protocol}`);
      return new StreamableHTTPClientTransport(url, {
        requestInit: { headers: { ...(config.headers ?? {}) } },
        fetch: cappedFetch(maxMessageBytes, onOversize),
      });
    }
    case 'custom':
      return config.transport;
    default:
      throw new ConfigError(`unknown MCP transport type ${(config as { type?: unknown }).type as string}`);
  }
}

/**
 * A `fetch` whose POST response bodies stop with a `LimitExceededError` past `max` bytes (one
 * response carries one JSON-RPC answer, or an SSE stream for one request). The long-lived GET
 * notification stream is left uncapped in total (it is parsed event by event by the SDK).
 */
function cappedFetch(max: number, onOversize: (err: LimitExceededError) => void): (url: string | URL, init?: RequestInit) => Promise<Response> {
  return async (url, init) => {
    const response = await fetch(url, init);
    const method = (init?.method ?? 'GET').toUpperCase();
    if (method === 'GET' || response.body === null) return response;
    const declared = Number(response.headers.get('content-length') ?? NaN);
    if (Number.isFinite(declared) && declared > max) {
      await response.body.cancel().catch(() => {});
      const err = new LimitExceededError(`MCP response of ${declared} bytes exceeds the limit of ${max}`);
      onOversize(err);
      throw err;
    }
    let seen = 0;
    const counter = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen <= max) {
          controller.enqueue(chunk);
          return;
        }
        const err = new LimitExceededError(`MCP response exceeds the limit of ${max} bytes`);
        controller.error(err);
        onOversize(err);
      },
    });
    return new Response(response.body.pipeThrough(counter), { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}
