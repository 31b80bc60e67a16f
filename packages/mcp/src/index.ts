/**
 * `@converge/mcp`: the tools of MCP (Model Context Protocol) servers as Converge tools, over
 * stdio or Streamable HTTP, with input validation (Ajv), definition pinning and size limits.
 */
export * from './toolset.js';
export * from './pins.js';
export * from './errors.js';
export * from './canonical.js';
export * from './counters.js';
export { SchemaCompiler, MAX_REPORTED_SCHEMA_ERRORS, type SchemaViolation, type InputCheck } from './schema.js';
export { paramsToJson } from './json.js';
export { DEFAULT_MAX_MESSAGE_BYTES, type McpTransportConfig, type McpStdioConfig, type McpHttpConfig, type McpCustomConfig } from './transports.js';
