// Bounded polling for the suites that watch another client's writes arrive.
import { setTimeout as delay } from 'node:timers/promises';

/** Waits (bounded by `rounds` × `ms`) until `cond()` holds; returns whether it did. */
export async function eventually(cond: () => boolean | Promise<boolean>, rounds = 200, ms = 25): Promise<boolean> {
  for (let i = 0; i < rounds; i++) {
    if (await cond()) return true;
    await delay(ms);
  }
  return cond();
}
