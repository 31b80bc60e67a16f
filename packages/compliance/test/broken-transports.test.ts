// Each suite check must catch the defect it is there for: a transport with exactly one
// behaviour broken fails that check (with a message naming the defect), and the intact
// transport passes the same check, so the failure is the break's. The intact transport is the
// plugin guide's HubTransport (docs/writing-plugins.md): in memory and written against core only
// (this package cannot depend on @converge/network); the broken ones each override one method.
import { describe, expect, it } from 'vitest';
import type { Message } from '@converge/core';
import { runTransportCheck, transportComplianceTests, type TransportComplianceOptions, type TransportUnderTest } from '@converge/compliance/transport';
import { Hub, HubTransport } from '../../../test/packaging/plugin-guide/src/hub-transport.js';

type Make = (id: string, hub: Hub) => TransportUnderTest;

/** HubTransport with an unbounded inbox: nothing is ever refused or lost. */
class MiniTransport extends HubTransport {
  constructor(id: string, hub: Hub) {
    super(id, hub, Infinity);
  }
}

function optionsWith(make: Make, name: string): TransportComplianceOptions {
  return {
    name,
    // Short bounds keep the broken cases quick; they are still far above what HubTransport needs.
    bounds: { receiveMs: 2_000, settleMs: 500 },
    stressCount: 500,
    slowConsumerCount: 500,
    capabilities: { backpressure: true }, // the queue is unbounded: nothing is ever lost
    churnIterations: 50,
    createPair: async () => {
      const hub = new Hub(64 * 1024);
      return { a: make('a', hub), b: make('b', hub), c: make('c', hub), aId: 'a', bId: 'b', maxMessageBytes: hub.maxMessageBytes };
    },
  };
}

const intact: Make = (id, hub) => new MiniTransport(id, hub);

/** An async iterator that ends at once. */
class EndsAtOnce extends MiniTransport {
  override async *[Symbol.asyncIterator](): AsyncIterator<Message> {}
}
/** A send to an unknown recipient that silently resolves. */
class SilentUnknownRecipient extends MiniTransport {
  override async send(message: Message): Promise<void> {
    if (message.recipient !== null && !this.hub.agents.has(message.recipient)) return;
    return super.send(message);
  }
}
/** An unsubscribe that does nothing. */
class NoopUnsubscribe extends MiniTransport {
  override unsubscribe(): void {}
}
/** A pending receive that stop() never settles (null results are swallowed). */
class HangsOnStop extends MiniTransport {
  override receive(options?: { signal?: AbortSignal; timeoutMs?: number }): Promise<Message | null> {
    return super.receive(options).then((m) => (m === null ? new Promise<never>(() => {}) : m));
  }
}
/** A receive that ignores its abort signal. */
class IgnoresAbort extends MiniTransport {
  override receive(options?: { signal?: AbortSignal; timeoutMs?: number }): Promise<Message | null> {
    return super.receive({ timeoutMs: options?.timeoutMs });
  }
}
/** Routing that silently loses what is sent to an agent while 64 messages are already waiting there. */
class DropsWhenBehind extends MiniTransport {
  #waiting = 0;
  override async send(message: Message): Promise<void> {
    const to = message.recipient === null ? undefined : this.hub.agents.get(message.recipient);
    if (to instanceof DropsWhenBehind) {
      if (to.#waiting >= 64) return;
      to.#waiting++;
    }
    return super.send(message);
  }
  override receive(options?: { signal?: AbortSignal; timeoutMs?: number }): Promise<Message | null> {
    return super.receive(options).then((m) => {
      if (m !== null) this.#waiting--;
      return m;
    });
  }
}
/** A receive that ignores timeoutMs. */
class IgnoresTimeout extends MiniTransport {
  override receive(options?: { signal?: AbortSignal; timeoutMs?: number }): Promise<Message | null> {
    return super.receive({ signal: options?.signal });
  }
}

const cases: { broken: string; make: Make; check: string; defect: RegExp }[] = [
  {
    broken: 'an async iterator that ends at once',
    make: (id, hub) => new EndsAtOnce(id, hub),
    check: 'yields sent messages from its async iterator and ends it when the transport stops',
    defect: /async iterator ended while the transport was running/,
  },
  {
    broken: 'a send to an unknown recipient that silently resolves',
    make: (id, hub) => new SilentUnknownRecipient(id, hub),
    check: 'refuses a send to an unknown recipient with a TransportError and delivers it to no one',
    defect: /send\(\) to the unknown recipient .* resolved: it must reject with a typed error/,
  },
  {
    broken: 'an unsubscribe that does nothing',
    make: (id, hub) => new NoopUnsubscribe(id, hub),
    check: 'stops delivering a namespace after unsubscribe',
    defect: /b received a message of namespace "news" after unsubscribe\("news"\)/,
  },
  {
    broken: 'a pending receive that stop() leaves hanging',
    make: (id, hub) => new HangsOnStop(id, hub),
    check: 'resolves a pending receive with null when the transport stops',
    defect: /a receive pending when the transport stopped did not settle: stop\(\) must resolve it with null \(nothing settled within 500 ms\)/,
  },
  {
    broken: 'a receive that ignores abort',
    make: (id, hub) => new IgnoresAbort(id, hub),
    check: 'rejects a pending receive with AbortError when its signal aborts, and an already-aborted one at once',
    defect: /a pending receive ignored its abort signal: it must reject with AbortError \(nothing settled within 500 ms\)/,
  },
  {
    broken: 'a receive that ignores timeoutMs',
    make: (id, hub) => new IgnoresTimeout(id, hub),
    check: 'resolves null when a receive times out',
    defect: /receive\(\{ timeoutMs: 20 \}\) did not settle: the transport ignores timeoutMs/,
  },
  {
    broken: 'routing that loses messages once the consumer falls behind',
    make: (id, hub) => new DropsWhenBehind(id, hub),
    check: 'a slow consumer gets every message, in order, while backpressure pauses and resumes the sender',
    defect: /the receiver stalled or lost messages under a slow consumer: \d+ of 500 arrived/,
  },
];

describe('the transport suite catches broken transports', () => {
  for (const c of cases) {
    it(`fails "${c.check}" for ${c.broken}, naming the defect`, async () => {
      await expect(runTransportCheck(optionsWith(c.make, `broken: ${c.broken}`), c.check)).rejects.toThrow(c.defect);
      await runTransportCheck(optionsWith(intact, 'MiniTransport'), c.check);
    });
  }

  it('refuses to run a check that does not apply, or one that does not exist', async () => {
    const noTopics = { ...optionsWith(intact, 'no topics'), capabilities: { topics: false } };
    await expect(runTransportCheck(noTopics, 'stops delivering a namespace after unsubscribe')).rejects.toThrow(/does not apply/);
    await expect(runTransportCheck(noTopics, 'no such check')).rejects.toThrow(/no transport check titled/);
  });

  it('asks for a third transport when topics are on and createPair gives none', async () => {
    const o = optionsWith(intact, 'no c');
    const make = o.createPair;
    o.createPair = async () => ({ ...(await make()), c: undefined });
    await expect(runTransportCheck(o, 'stops delivering a namespace after unsubscribe')).rejects.toThrow(/needs a third transport/);
  });
});

// The intact transport passes the whole suite (so the cases above fail for their break alone).
transportComplianceTests(optionsWith(intact, 'MiniTransport'));
