// zod schemas of the core decision types, for vetting what a model proposes. Unknown keys are
// stripped, so a decision that passes carries only the fields its type defines.
import { z } from 'zod';
import type { CoreDecision } from '@converge/core';

const id = z.string().min(1).max(256);
const json = z.json();
const record = z.record(z.string(), json);
const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/** A topic as a model may write it: `{ namespace, attributes?, version? }`. */
export const topicSchema = z.object({
  namespace: z.string().min(1).max(256),
  attributes: z.record(z.string(), scalar).default({}),
  version: z.string().default('1.0'),
});

const taskInit = z.object({
  objective: z.string().min(1).max(10_000),
  id: id.optional(),
  inputs: record.optional(),
  constraints: record.optional(),
  evaluator: z.string().nullable().optional(),
  poolId: id.nullable().optional(),
  topic: topicSchema.nullable().optional(),
  requiredCapabilities: z.array(z.string()).optional(),
});

const poolInit = z.object({
  id: id.optional(),
  topics: z.array(topicSchema).optional(),
  agents: z.array(id).optional(),
  metadata: record.optional(),
});

/** Schema of every core decision type: a discriminated union on `type`. */
export const coreDecisionSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('SendMessage'),
    recipient: id.nullable(),
    payload: json,
    topics: z.array(topicSchema).optional(),
    taskId: id.nullable().optional(),
  }),
  z.object({ type: z.literal('JoinPool'), poolId: id, context: record.optional() }),
  z.object({ type: z.literal('LeavePool'), poolId: id }),
  z.object({ type: z.literal('CreatePool'), pool: poolInit }),
  z.object({ type: z.literal('SubmitTask'), task: taskInit }),
  z.object({ type: z.literal('ClaimTask'), taskId: id }),
  z.object({ type: z.literal('ReportTask'), taskId: id, result: json }),
  z.object({ type: z.literal('FailTask'), taskId: id, reason: z.string().max(10_000) }),
  z.object({ type: z.literal('CancelTask'), taskId: id }),
  z.object({ type: z.literal('SubmitBid'), auctionId: id, amount: z.number().finite() }),
  z.object({ type: z.literal('Vote'), ballotId: id, choice: z.string().max(10_000), weight: z.number().finite().optional() }),
  z.object({ type: z.literal('Propose'), sessionId: id.optional(), participants: z.array(id).min(1), terms: json }),
  z.object({ type: z.literal('AcceptProposal'), sessionId: id }),
  z.object({ type: z.literal('RejectProposal'), sessionId: id, reason: z.string().max(10_000).optional() }),
  z.object({ type: z.literal('Delegate'), delegatee: id, actions: z.array(z.string()).min(1), expiresAt: z.number().int().nullable().optional() }),
  z.object({ type: z.literal('RevokeDelegation'), delegationId: id }),
  z.object({ type: z.literal('InvokeTool'), tool: z.string().min(1).max(256), params: record.default({}), timeoutMs: z.number().int().positive().optional() }),
]);

/** Schema of a custom decision: an object with a string `type` (other fields kept as JSON). */
export const customDecisionSchema = z.looseObject({ type: z.string().min(1).max(256) });

/**
 * A short description of the core decision types for a prompt: one line per type with its
 * fields (`?` marks optional ones).
 */
export const DECISION_TYPES_DESCRIPTION = [
  'SendMessage { recipient: fingerprint | null, payload: any JSON, topics?: [{namespace, attributes, version}], taskId?: string | null }',
  'JoinPool { poolId, context?: object }',
  'LeavePool { poolId }',
  'CreatePool { pool: { id?, topics?, agents?, metadata? } }',
  'SubmitTask { task: { objective, inputs?, constraints?, poolId?, requiredCapabilities? } }',
  'ClaimTask { taskId }',
  'ReportTask { taskId, result: any JSON }',
  'FailTask { taskId, reason }',
  'CancelTask { taskId }',
  'SubmitBid { auctionId, amount: number }',
  'Vote { ballotId, choice, weight?: number }',
  'Propose { sessionId?, participants: [fingerprint], terms: any JSON }',
  'AcceptProposal { sessionId }',
  'RejectProposal { sessionId, reason? }',
  'Delegate { delegatee: fingerprint, actions: [string], expiresAt?: unix ms | null }',
  'RevokeDelegation { delegationId }',
  'InvokeTool { tool, params: object, timeoutMs?: integer }',
].join('\n');

/** What `coreDecisionSchema` yields: a core decision (checked statically below). */
export type ParsedCoreDecision = z.infer<typeof coreDecisionSchema>;
/** Compile-time proof that every parsed decision is a `CoreDecision` (no cast). */
export const asCoreDecision = (d: ParsedCoreDecision): CoreDecision => d;
