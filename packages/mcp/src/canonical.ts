import { createHash } from 'node:crypto';

/** JSON data as an MCP server sends it. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * The canonical JSON text of `value` (RFC 8785 style): object keys sorted by UTF-16 code unit,
 * no whitespace, numbers and strings as `JSON.stringify` writes them (which is what RFC 8785
 * prescribes for IEEE doubles). Keys whose value is `undefined` are left out, as in JSON.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const text = JSON.stringify(value);
    // undefined, functions and symbols have no JSON form; inside arrays JSON writes null.
    return text === undefined ? 'null' : text;
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record)
    .filter((k) => record[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`).join(',')}}`;
}

/**
 * The fields of an MCP tool definition that are pinned: everything the server lists for the
 * tool except `_meta` (free-form metadata servers may vary per listing).
 */
export function pinnedDefinition(tool: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const { _meta: _ignored, ...definition } = tool;
  return definition;
}

/** The pin of a tool definition: hex sha-256 of the canonical JSON of `pinnedDefinition(tool)`. */
export function definitionHash(tool: Readonly<Record<string, unknown>>): string {
  return createHash('sha256')
    .update(canonicalJson(pinnedDefinition(tool)), 'utf8')
    .digest('hex');
}
