// The pieces of LLMAgent's tool loop that do not need the agent: turning a tool call's
// arguments into params, an outcome into a tool-result message, and matching outcomes to the
// calls that wait for them.
import { isFloat64, bytesToHex, type Decision } from '@converge/core';
import { jsonDepthWithin } from './output.js';
import type { ChatMessage, ChatToolCall } from './types.js';

/** Default most model calls in one tool conversation (from the prompt to the final answer). */
export const DEFAULT_MAX_TOOL_TURNS = 8;
/** Default most characters one tool conversation holds (contents and arguments summed). */
export const DEFAULT_MAX_CONVERSATION_CHARS = 200_000;
/** Default longest tool result sent back to the model, in characters (longer ones are cut). */
export const DEFAULT_MAX_TOOL_RESULT_CHARS = 16_000;
/** Longest arguments text of one tool call accepted, in characters (*fixed*; longer is a `schema` rejection). */
export const MAX_TOOL_ARGUMENT_CHARS = 64_000;

/** Plain JSON for a prompt: bigint as a string, bytes as `{"$bytes": hex}` (first 256), Maps as objects. */
export function jsonSafe(v: unknown, depth = 0): unknown {
  if (depth > 64) return '…';
  if (typeof v === 'bigint') return v.toString();
  if (isFloat64(v)) return v.value;
  if (v instanceof Uint8Array) return { $bytes: bytesToHex(v.subarray(0, 256)) + (v.byteLength > 256 ? '…' : '') };
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), jsonSafe(x, depth + 1)]));
  if (Array.isArray(v)) return v.map((x) => jsonSafe(x, depth + 1));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonSafe(x, depth + 1)]));
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  return v;
}

/** What a tool call's arguments turned into: params, or why not. */
export type ToolArguments = { ok: true; params: Record<string, unknown> } | { ok: false; detail: string };

/**
 * Parses a tool call's arguments text into a params object: bounded in length
 * (`MAX_TOOL_ARGUMENT_CHARS`) and depth (scanned before parsing), and an object. Never throws.
 */
export function parseToolArguments(text: string): ToolArguments {
  if (typeof text !== 'string') return { ok: false, detail: 'arguments are not text' };
  if (text.length > MAX_TOOL_ARGUMENT_CHARS) return { ok: false, detail: `arguments longer than ${MAX_TOOL_ARGUMENT_CHARS} characters` };
  const trimmed = text.trim();
  if (trimmed === '') return { ok: true, params: {} };
  if (!jsonDepthWithin(trimmed)) return { ok: false, detail: 'arguments nested too deep' };
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    return { ok: false, detail: 'arguments are not JSON' };
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return { ok: false, detail: 'arguments are not a JSON object' };
  return { ok: true, params: value as Record<string, unknown> };
}

/** A tool call the model made that became an `InvokeTool` decision, waiting for its outcome. */
export interface AwaitedCall {
  callId: string;
  decision: Decision;
}

/** A tool-result message and whether its content was cut. */
export interface ToolResult {
  message: ChatMessage;
  cut: boolean;
}

/**
 * The tool-result message of `outcome` for call `callId`: an `ok` outcome's result as JSON
 * (cut past `maxChars`), any other outcome an error result `{"status", "error"}` (`isError`).
 * `undefined` outcome: no outcome reached the agent (an error result too).
 */
export function toolResultOf(callId: string, outcome: Record<string, unknown> | undefined, maxChars: number): ToolResult {
  let content: string;
  let isError = false;
  if (outcome === undefined) {
    isError = true;
    content = JSON.stringify({ status: 'failed', error: { message: 'no outcome of this call reached the agent' } });
  } else if (outcome.status === 'ok') {
    content = JSON.stringify(jsonSafe(outcome.result)) ?? 'null';
  } else {
    isError = true;
    const e = outcome.error as { name?: unknown; code?: unknown; message?: unknown } | undefined;
    content = JSON.stringify({ status: outcome.status, error: { name: e?.name, code: e?.code, message: e?.message } });
  }
  const cut = content.length > maxChars;
  if (cut) content = `${content.slice(0, maxChars)}…(cut: ${content.length} characters)`;
  return { message: { role: 'tool', toolCallId: callId, content, ...(isError ? { isError } : {}) }, cut };
}

/** The error result of a call the agent did not run (its decision was rejected: `detail`). */
export function rejectedToolResult(callId: string, status: string, detail: string): ChatMessage {
  return { role: 'tool', toolCallId: callId, isError: true, content: JSON.stringify({ status, error: { message: detail.slice(0, 2_000) } }) };
}

function sameCall(decision: Decision, o: Record<string, unknown>): boolean {
  const d = o.decision as { type?: unknown; tool?: unknown; params?: unknown } | undefined;
  const mine = decision as { tool?: unknown; params?: unknown };
  return d?.type === 'InvokeTool' && d.tool === mine.tool && JSON.stringify(jsonSafe(d.params)) === JSON.stringify(jsonSafe(mine.params));
}

/**
 * Pairs each awaited call with its outcome: the outcome of the very decision object first (the
 * runtime hands decisions back as the agent returned them), else the first unused `InvokeTool`
 * outcome of the same tool and params. Returns the outcome per call (`undefined`: none) and the
 * outcomes left over (not tool results of this conversation).
 */
export function matchToolOutcomes(
  awaited: readonly AwaitedCall[],
  outcomes: readonly unknown[],
): { matched: (Record<string, unknown> | undefined)[]; rest: unknown[] } {
  const used = new Set<number>();
  const objs = outcomes.map((o) => (o && typeof o === 'object' ? (o as Record<string, unknown>) : undefined));
  const matched = awaited.map((a) => {
    let i = objs.findIndex((o, k) => !used.has(k) && o?.decision === a.decision);
    if (i < 0) i = objs.findIndex((o, k) => !used.has(k) && o !== undefined && sameCall(a.decision, o));
    if (i < 0) return undefined;
    used.add(i);
    return objs[i];
  });
  return { matched, rest: outcomes.filter((_, k) => !used.has(k)) };
}

/** Characters a conversation holds: contents and tool-call arguments summed. */
export function conversationChars(messages: readonly ChatMessage[]): number {
  let n = 0;
  for (const m of messages) {
    n += m.content.length;
    for (const c of m.toolCalls ?? []) n += c.name.length + c.arguments.length;
  }
  return n;
}

/** A copy of the model's tool calls for the conversation (only the fields the providers send). */
export function copyCalls(calls: readonly ChatToolCall[]): ChatToolCall[] {
  return calls.map((c) => ({ id: c.id, name: c.name, arguments: c.arguments }));
}
