// The node-redis connections of RedisStore and RedisTaskQueue: made and closed the same way.
import { createClient, RESP_TYPES } from 'redis';

/**
 * Command options that return bulk strings as Buffers (values are binary msgpack). `withTypeMapping`
 * does not reach `sendCommand`, so every raw command passes these itself.
 */
export const BINARY = { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } } as const;

/** A client with a bounded command queue and the caller's reconnect strategy (a number: retry after that many ms; an Error: give up). */
export function makeClient(url: string, name: string, connectTimeout: number, queue: number, reconnectStrategy: (retries: number) => number | Error): Client {
  return createClient({ url, name, commandsQueueMaxLength: queue, socket: { connectTimeout, reconnectStrategy } });
}

/** A client made by `makeClient` (named through `createClient`, so declarations can spell it). */
export type Client = ReturnType<typeof createClient>;

/**
 * Closes a client whatever its state: QUIT-less close when connected, destroy while it is
 * (re)connecting (close would wait for a connection), nothing when already closed. Never throws.
 */
export async function closeClient(client: Client): Promise<void> {
  try {
    if (!client.isOpen) return;
    if (client.isReady) await client.close();
    else client.destroy();
  } catch {
    try {
      client.destroy();
    } catch {
      // already closed
    }
  }
}
