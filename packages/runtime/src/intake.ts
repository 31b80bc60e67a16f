import { ConfigError, TransportError, type Logger, type Message } from '@converge/core';
import type { Transport } from '@converge/core';
import type { VerifierPool } from '@converge/network';
import type { Inbox } from './inbox.js';
import type { ReplayPort, VerdictPort, VerifierPort } from './service-ports.js';
import type { RuntimeTelemetry } from './telemetry.js';
import { sleep } from './runtime-util.js';

/** Options of `Intake`. */
export interface IntakeOptions {
  /** The receiving agent: a message addressed to anyone else is refused (`wrong_recipient`). */
  agentId: string;
  /** Where accepted messages go. */
  inbox: Inbox;
  /** Counts and logs (errors, the runtime's own refusals, received messages). */
  telemetry: RuntimeTelemetry;
  /** Most messages taken off the transport at once (the runtime's `batchSize`). */
  batchSize: number;
  /** Delay before reading again after a failed receive, ms. */
  errorRetryMs: number;
  /** Vets each message; it counts and logs what it refuses. */
  verifier?: VerifierPort;
  /** Verifies signatures on worker threads (the verifier's `checkBatch`). */
  verifierPool?: VerifierPool;
  /** Records each accepted message. */
  replayLog?: ReplayPort;
  /** Logs the runtime's own refusals. */
  logger?: Logger;
}

/**
 * The runtime's intake: reads the transport and hands accepted messages to the inbox.
 *
 * One bounded queue from transport to agent: the transport's. The intake takes messages off
 * it only while the inbox holds less than one batch (`batchSize`, and never past the inbox's
 * capacity), so the backlog stays in the transport's queue, whose bound and overflow policy
 * push back on senders; the inbox holds the next batch only. Each refused message is counted
 * and logged once: by the verifier for its reasons, by the intake for `wrong_recipient` (and
 * in `rejected`, which counts both).
 */
export class Intake {
  readonly #o: IntakeOptions;
  #rejected = 0;
  #alive = false;

  /** @throws ConfigError when `verifierPool` is given without a verifier that has `checkBatch`. */
  constructor(options: IntakeOptions) {
    if (options.verifierPool && typeof options.verifier?.checkBatch !== 'function') {
      throw new ConfigError('verifierPool needs a verifier with checkBatch (a MessageVerifier)', { key: 'verifierPool' });
    }
    this.#o = options;
  }

  /** Incoming messages refused (by the verifier or as addressed to another agent). */
  get rejected(): number {
    return this.#rejected;
  }

  /** Whether `run` is reading the transport now. */
  get alive(): boolean {
    return this.#alive;
  }

  /** Starts the verifier pool, if any (idempotent; its owner stops it). */
  async start(): Promise<void> {
    await this.#o.verifierPool?.start();
  }

  /** Reads `transport` until `signal` aborts or the transport stops under it. */
  async run(transport: Transport, signal: AbortSignal): Promise<void> {
    this.#alive = true;
    try {
      while (!signal.aborted) {
        const room = await this.#room(signal);
        if (signal.aborted) return;
        let first: Message | null;
        try {
          first = await transport.receive({ signal });
        } catch (err) {
          if (signal.aborted) return;
          this.#o.telemetry.error('receive', err);
          await sleep(this.#o.errorRetryMs, signal);
          continue;
        }
        if (first === null) {
          if (!transport.started) {
            if (!signal.aborted) this.#o.telemetry.error('receive', new TransportError('the transport stopped under a running runtime'));
            return;
          }
          continue;
        }
        const batch = [first];
        while (batch.length < room) {
          const m = transport.tryReceive?.() ?? null;
          if (m === null) break;
          batch.push(m);
        }
        await this.#deliver(await this.accept(batch), signal);
      }
    } finally {
      this.#alive = false;
    }
  }

  /** The messages of `batch` that may be delivered (in order); the others are counted and logged once. */
  async accept(batch: readonly Message[]): Promise<Message[]> {
    const own = batch.filter((m) => this.#addressed(m));
    const verdicts = await this.#verdicts(own);
    const out: Message[] = [];
    for (let i = 0; i < own.length; i++) {
      if (verdicts && !verdicts[i]!.ok) {
        this.#rejected++; // counted and logged by the verifier
        continue;
      }
      const m = own[i]!;
      if (this.#o.replayLog) {
        try {
          this.#o.replayLog.recordMessage(m);
        } catch (err) {
          this.#o.telemetry.error('replay', err);
        }
      }
      out.push(m);
    }
    if (out.length > 0) this.#o.telemetry.count('converge_runtime_messages_received_total', {}, out.length);
    return out;
  }

  async #verdicts(messages: readonly Message[]): Promise<readonly VerdictPort[] | undefined> {
    const { verifier, verifierPool } = this.#o;
    if (!verifier || messages.length === 0) return undefined;
    if (verifierPool && verifier.checkBatch) return verifier.checkBatch(messages, verifierPool);
    return messages.map((m) => verifier.check(m));
  }

  // A message signed for another agent and injected here (issue 21 H2) never reaches decide,
  // whether or not a verifier is configured; broadcast and topic messages (null) pass.
  #addressed(message: Message): boolean {
    if (message.recipient === null || message.recipient === this.#o.agentId) return true;
    this.#rejected++;
    const reason = 'wrong_recipient';
    this.#o.telemetry.count('converge_runtime_messages_rejected_total', { reason });
    this.#o.logger?.warn({ agentId: this.#o.agentId, messageId: message.id, sender: message.sender, recipient: message.recipient, reason }, 'message rejected');
    return false;
  }

  // How many messages the next read may take: what keeps the inbox under one batch (and its
  // capacity); waits for the agent to take messages when there is no room.
  async #room(signal: AbortSignal): Promise<number> {
    const { inbox, batchSize } = this.#o;
    for (;;) {
      const room = Math.min(batchSize, inbox.maxSize) - inbox.size;
      if (room > 0 || signal.aborted) return room;
      await inbox.waitForPoll(signal);
    }
  }

  // Offers the messages to the inbox in order; a refusal (`reject`, `throw`, or a byte budget
  // below the message capacity) holds the rest until there is room. Drops are counted by the
  // inbox's onDrop; what is not yet offered when the intake stops is counted as `stopped`.
  async #deliver(messages: readonly Message[], signal: AbortSignal): Promise<void> {
    const inbox = this.#o.inbox;
    for (let i = 0; i < messages.length;) {
      if (signal.aborted) {
        // Stopping (the batch was being verified): the inbox may already have been discarded.
        this.#o.telemetry.count('converge_inbox_dropped_total', { reason: 'stopped' }, messages.length - i);
        return;
      }
      const refusedBefore = inbox.rejected;
      let queued: boolean;
      try {
        queued = inbox.offer(messages[i]!);
      } catch (err) {
        if ((err as Error)?.name !== 'QueueFullError') throw err;
        queued = false;
      }
      if (queued || inbox.rejected === refusedBefore) {
        i++; // queued, or dropped (drop-newest, too large): counted
        continue;
      }
      await inbox.waitForPoll(signal);
    }
  }
}
