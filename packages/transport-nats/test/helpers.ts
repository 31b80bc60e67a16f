// Shared by the NATS tests: the server they talk to (never a mock) and unique names per run.
import { randomBytes } from 'node:crypto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';

/** The NATS server with JetStream that the tests use. */
export const NATS_URL = process.env.CONVERGE_NATS_URL ?? 'nats://127.0.0.1:4222';

/** A subject prefix no other test run uses. */
export function uniquePrefix(label: string): string {
  return `cvtest.${label}.${randomBytes(6).toString('hex')}`;
}

/** A raw nats.js connection (fails the test clearly when the server is down). */
export async function rawConnection(): Promise<NatsConnection> {
  try {
    return await connect({ servers: NATS_URL, timeout: 2_000 });
  } catch (err) {
    throw new Error(`the NATS server at ${NATS_URL} is not reachable; these tests need it`, { cause: err });
  }
}

/** Runs `fn` with a raw nats.js connection (as `rawConnection`), closed after it. */
export async function withRawConnection<T>(fn: (nc: NatsConnection) => Promise<T>): Promise<T> {
  const nc = await rawConnection();
  try {
    return await fn(nc);
  } finally {
    await nc.close();
  }
}

/** Deletes a JetStream stream if it exists. */
export async function deleteStream(name: string): Promise<void> {
  const nc = await rawConnection();
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(name).catch(() => false);
  } finally {
    await nc.close();
  }
}
