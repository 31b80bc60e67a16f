// A remote A2A agent built only with the official SDK's server classes (DefaultRequestHandler,
// the Express handlers, the SDK's card signer), signing its card with a jose Ed25519 key under
// a kid of its own choosing, and publishing the key as a JWKS.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { Role, TaskState, generateAgentCardSignature, type AgentCard, type Message } from '@a2a-js/sdk';
import { AgentEvent, DefaultRequestHandler, InMemoryTaskStore, type AgentExecutor } from '@a2a-js/sdk/server';
import { UserBuilder, agentCardHandler, jsonRpcHandler } from '@a2a-js/sdk/server/express';
import { fingerprintOf } from '@converge/core';

export interface SdkAgent {
  url: string;
  /** Fingerprint of the card's signing key. */
  keyFingerprint: string;
  /** Requests seen by `execute`, by message id. */
  executed: string[];
  close(): Promise<void>;
}

export interface SdkAgentOptions {
  /** Milliseconds the work takes (status `working` in between). */
  workMs?: number;
  /** Ends the task failed instead of completed. */
  fail?: boolean;
  /** Serves the card without signatures. */
  unsigned?: boolean;
  /** Changes the card after signing it. */
  tamper?: boolean;
}

const say = (taskId: string, contextId: string, text: string): Message => ({
  role: Role.ROLE_AGENT,
  messageId: crypto.randomUUID(),
  taskId,
  contextId,
  parts: [{ content: { $case: 'text', value: text }, mediaType: 'text/plain', filename: '', metadata: {} }],
  metadata: {},
  extensions: [],
  referenceTaskIds: [],
});

/** Starts the SDK agent: it upper-cases the text it is sent (or sums `numbers` of a data part). */
export async function startSdkAgent(options: SdkAgentOptions = {}): Promise<SdkAgent> {
  const { publicKey, privateKey } = await generateKeyPair('Ed25519', { extractable: true });
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: 'sdk-key-1', alg: 'EdDSA' };
  const executed: string[] = [];
  const executor: AgentExecutor = {
    execute: async (ctx, bus) => {
      const m = ctx.userMessage;
      executed.push(m.messageId);
      const base = { id: ctx.taskId, contextId: ctx.contextId, artifacts: [], history: [m], metadata: {} };
      bus.publish(AgentEvent.task({ ...base, status: { state: TaskState.TASK_STATE_SUBMITTED, message: undefined, timestamp: new Date().toISOString() } }));
      bus.publish(
        AgentEvent.statusUpdate({
          taskId: ctx.taskId,
          contextId: ctx.contextId,
          status: { state: TaskState.TASK_STATE_WORKING, message: undefined, timestamp: new Date().toISOString() },
          metadata: {},
        }),
      );
      await new Promise((r) => setTimeout(r, options.workMs ?? 20));
      if (options.fail) {
        bus.publish(
          AgentEvent.statusUpdate({
            taskId: ctx.taskId,
            contextId: ctx.contextId,
            status: { state: TaskState.TASK_STATE_FAILED, message: say(ctx.taskId, ctx.contextId, 'cannot do that'), timestamp: new Date().toISOString() },
            metadata: {},
          }),
        );
        return;
      }
      let value: unknown = '';
      for (const p of m.parts) {
        if (p.content?.$case === 'text') value = p.content.value.toUpperCase();
        if (p.content?.$case === 'data') value = ((p.content.value as { numbers?: number[] }).numbers ?? []).reduce((a, b) => a + b, 0);
      }
      const part =
        typeof value === 'string'
          ? { content: { $case: 'text' as const, value }, mediaType: 'text/plain', filename: '', metadata: {} }
          : { content: { $case: 'data' as const, value }, mediaType: 'application/json', filename: '', metadata: {} };
      bus.publish(
        AgentEvent.artifactUpdate({
          taskId: ctx.taskId,
          contextId: ctx.contextId,
          artifact: { artifactId: 'answer', name: 'answer', description: '', parts: [part], metadata: {}, extensions: [] },
          append: false,
          lastChunk: true,
          metadata: {},
        }),
      );
      bus.publish(
        AgentEvent.statusUpdate({
          taskId: ctx.taskId,
          contextId: ctx.contextId,
          status: { state: TaskState.TASK_STATE_COMPLETED, message: undefined, timestamp: new Date().toISOString() },
          metadata: {},
        }),
      );
    },
    cancelTask: async () => {},
  };
  const app = express();
  const server: Server = createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const card: AgentCard = {
    name: 'sdk-upper',
    description: 'upper-cases text, sums numbers',
    version: '1.0.0',
    supportedInterfaces: [{ url: `${url}/rpc`, protocolBinding: 'JSONRPC', tenant: '', protocolVersion: '1.0' }],
    provider: undefined,
    capabilities: { streaming: true, pushNotifications: false, extensions: [], extendedAgentCard: false },
    securitySchemes: {},
    securityRequirements: [],
    defaultInputModes: ['text/plain'],
    defaultOutputModes: ['text/plain'],
    skills: [
      { id: 'upper', name: 'upper', description: 'upper-cases text', tags: [], examples: [], inputModes: [], outputModes: [], securityRequirements: [] },
      { id: 'sum', name: 'sum', description: 'sums numbers', tags: [], examples: [], inputModes: [], outputModes: [], securityRequirements: [] },
    ],
    signatures: [],
  };
  const signer = generateAgentCardSignature(privateKey, { alg: 'EdDSA', typ: 'JOSE', kid: 'sdk-key-1', jku: `${url}/keys.json` });
  const handler = new DefaultRequestHandler(
    card,
    new InMemoryTaskStore(),
    executor,
    undefined,
    undefined,
    undefined,
    undefined,
    options.unsigned ? undefined : signer,
  );
  const provider = async (): Promise<AgentCard> => {
    const c = await handler.getAgentCard();
    return options.tamper ? { ...c, description: 'something else' } : c;
  };
  app.get('/keys.json', (_req, res) => {
    res.json({ keys: [jwk] });
  });
  app.use('/.well-known/agent-card.json', agentCardHandler({ agentCardProvider: provider }));
  app.use('/rpc', jsonRpcHandler({ requestHandler: handler, userBuilder: UserBuilder.noAuthentication }));
  return {
    url: `${url}/`,
    keyFingerprint: fingerprintOf(new Uint8Array(Buffer.from(jwk.x!, 'base64url'))),
    executed,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
