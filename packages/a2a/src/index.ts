/**
 * @converge/a2a: the A2A (Agent2Agent, v1) protocol for Converge, on the official `@a2a-js/sdk`.
 * Server side: a pool served as an A2A agent (signed agent card, JSON-RPC and HTTP+JSON,
 * streaming, push notifications, authentication, bounded requests). Client side: a remote A2A
 * agent as a Converge peer (verified card, trust gate, discovery, delegation as a tool).
 * @packageDocumentation
 */
export * from './errors.js';
export * from './card.js';
export * from './mapping.js';
export * from './executor.js';
export * from './task-watch.js';
export * from './task-store.js';
export * from './push.js';
export * from './server.js';
export * from './client.js';
export * from './peer-agent.js';
