/**
 * @converge/core: identities, signed messages, topics, tasks, pools, capabilities,
 * decisions, outcomes, tools, the Agent base class, the Store interface, errors and the wire codec.
 * @packageDocumentation
 */
export * from './errors.js';
export * from './brand.js';
export * from './clock.js';
export { isStartable, start, stop, type Startable } from './startable.js';
export * from './options.js';
export * from './backoff.js';
export * from './clone.js';
export * from './float.js';
export * from './value.js';
export * from './bytes.js';
export * from './topic.js';
export * from './identity.js';
export { DEFAULT_ED25519_BACKEND, ed25519Sign, ed25519Verify, fingerprintOf, publicKeyOf, type Ed25519Backend } from './ed25519.js';
export * from './wire/index.js';
export * from './message.js';
export * from './task.js';
export * from './pool.js';
export * from './capability.js';
export * from './store.js';
export * from './store-support/index.js';
export * from './decisions.js';
export * from './outcome.js';
export * from './tools.js';
export * from './agent.js';
export * from './uuid.js';
export * from './task-queue.js';
export * from './task-event-feed.js';
export { ed25519VerifyAsync, ed25519AsyncBackend, verifyMessageAsync, type Ed25519AsyncBackend } from './ed25519-async.js';
export * from './observability.js';
export * from './metric-table.js';
export * from './transport.js';
export * from './health.js';
export * from './overflow.js';
export * from './ring-queue.js';
