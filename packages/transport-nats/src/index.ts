/**
 * `@converge/transport-nats`: a Converge `Transport` over NATS, with optional JetStream
 * persistence for directed messages.
 * @packageDocumentation
 */
export { NatsTransport } from './nats-transport.js';
export * from './options.js';
export { namespaceSubject, defaultStreamName, subjectsFor, type Subjects } from './subjects.js';
