/**
 * The measuring loops of the transport suites: presigned messages from a sender transport to a
 * receiver draining them concurrently, timed with `process.hrtime`.
 */
import type { Message } from '@converge/core';

/** The side of a transport a transfer uses. */
export interface TransferEnds {
  /** Sends one message. */
  send(m: Message): Promise<void>;
  /** Resolves the next message, `null` once stopped. */
  receive(): Promise<Message | null>;
}

/**
 * Messages/s of `n` sends from `a` (each awaited, as an agent loop would) cycling through `msgs`,
 * while `b` receives concurrently; throws when fewer than `n` arrived (`lost` adds detail).
 */
export async function sequentialRate(
  a: Pick<TransferEnds, 'send'>,
  b: Pick<TransferEnds, 'receive'>,
  msgs: readonly Message[],
  n: number,
  lost?: () => string,
): Promise<number> {
  const start = process.hrtime.bigint();
  let received = 0;
  const receiver = (async () => {
    while (received < n) {
      if ((await b.receive()) === null) break;
      received++;
    }
  })();
  for (let i = 0; i < n; i++) await a.send(msgs[i % msgs.length]!);
  await receiver;
  if (received !== n) throw new Error(`lost messages: ${received} of ${n}${lost ? ` (${lost()})` : ''}`);
  return n / (Number(process.hrtime.bigint() - start) / 1e9);
}
