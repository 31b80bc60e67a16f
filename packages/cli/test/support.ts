// Helpers the CLI's tests share.
import { setTimeout as delay } from 'node:timers/promises';

/** Polls `check` every 10 ms until it holds; throws `condition not reached` after `ms` (a missing event fails fast). */
export async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await delay(10);
  }
}
