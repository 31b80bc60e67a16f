// Two agents, each run by its own AgentRuntime on one LocalHub, play N rounds of ping-pong.
// Agents never sign or send by hand: they return SendMessage decisions and the runtime's
// executor signs them with the agent's identity. Each runtime is given a MessageVerifier over a
// shared IdentityRegistry, so only messages whose signature checks out reach `decide`.
// An intruder whose key is not registered also sends a (validly signed) ping: it is rejected.
// Exit code 0 when all N round trips completed with verified messages and the intruder's ping
// was refused; 1 otherwise.
import { Agent, Decisions, Identity, createMessage, signMessage, type Decision, type Message } from '@converge/core';
import { IdentityRegistry, LocalHub, LocalTransport, MessageVerifier } from '@converge/network';
import { AgentRuntime } from '@converge/runtime';

const ROUNDS = 10;

interface Ball {
  kind: 'ping' | 'pong';
  seq: number;
}

/** Serves a ping, waits for the matching pong, serves the next one, until ROUNDS are done. */
class Pinger extends Agent {
  peer = '';
  readonly roundTrips: { seq: number; ms: number }[] = [];
  readonly problems: string[] = [];
  #sentAt = new Map<number, number>();
  #served = false;
  #finish!: () => void;
  readonly finished = new Promise<void>((resolve) => (this.#finish = resolve));

  decide(messages: readonly Message[]): Decision[] {
    if (!this.#served) {
      this.#served = true; // the first turn runs right after start(): serve ball #1
      return [this.#ping(1)];
    }
    const out: Decision[] = [];
    for (const m of messages) {
      const ball = m.payload as unknown as Ball;
      const sentAt = this.#sentAt.get(ball.seq);
      // The verifier already proved who signed it; still check it is the peer and a pong we expect.
      if (m.sender !== this.peer || ball.kind !== 'pong' || sentAt === undefined) {
        this.problems.push(`unexpected message ${JSON.stringify(m.payload)} from ${m.sender.slice(0, 8)}`);
        continue;
      }
      this.#sentAt.delete(ball.seq);
      this.roundTrips.push({ seq: ball.seq, ms: performance.now() - sentAt });
      if (ball.seq < ROUNDS) out.push(this.#ping(ball.seq + 1));
      else this.#finish();
    }
    return out;
  }

  #ping(seq: number): Decision {
    this.#sentAt.set(seq, performance.now());
    return Decisions.sendMessage(this.peer, { kind: 'ping', seq });
  }
}

/** Answers every ping from anyone with a pong carrying the same sequence number. */
class Ponger extends Agent {
  served = 0;
  decide(messages: readonly Message[]): Decision[] {
    return messages
      .filter((m) => (m.payload as unknown as Ball).kind === 'ping')
      .map((m) => {
        this.served++;
        return Decisions.sendMessage(m.sender, { kind: 'pong', seq: (m.payload as unknown as Ball).seq });
      });
  }
}

async function main(): Promise<number> {
  const pinger = new Pinger();
  const ponger = new Ponger();
  pinger.peer = ponger.id;

  // Public keys of everyone allowed to talk; a message from anyone else is rejected.
  const registry = new IdentityRegistry();
  registry.register(pinger.identity);
  registry.register(ponger.identity);
  const verifiers = { pinger: new MessageVerifier({ registry }), ponger: new MessageVerifier({ registry }) };

  const hub = new LocalHub();
  const pongRuntime = new AgentRuntime({ agent: ponger, transport: new LocalTransport(ponger.id, { hub }), verifier: verifiers.ponger });
  const pingRuntime = new AgentRuntime({ agent: pinger, transport: new LocalTransport(pinger.id, { hub }), verifier: verifiers.pinger });
  console.log(`pinger ${pinger.id.slice(0, 8)} and ponger ${ponger.id.slice(0, 8)} on one LocalHub, ${ROUNDS} rounds`);

  // The ponger starts first so that its transport is on the hub before the first ping arrives
  // (a LocalHub refuses a message for an unknown recipient).
  await pongRuntime.start();

  // Someone not in the registry joins the hub and serves a ping: its signature is valid but
  // nobody vouches for its key, so the ponger's runtime rejects it before decide() sees it.
  const intruder = Identity.generate();
  const intruderTransport = new LocalTransport(intruder.fingerprint, { hub });
  await intruderTransport.start();
  await intruderTransport.send(signMessage(createMessage({ recipient: ponger.id, payload: { kind: 'ping', seq: 99 } }), intruder));
  await intruderTransport.stop();

  await pingRuntime.start();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    pinger.finished.then(() => false),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), 10_000))),
  ]);
  clearTimeout(timer);
  await pingRuntime.stop();
  await pongRuntime.stop();

  for (const rt of pinger.roundTrips) console.log(`round trip #${rt.seq}: ping -> pong -> back in ${rt.ms.toFixed(2)} ms`);
  for (const p of pinger.problems) console.log(`problem: ${p}`);
  const verified = verifiers.pinger.verified + verifiers.ponger.verified;
  const rejected = pingRuntime.rejectedMessages + pongRuntime.rejectedMessages;
  const inOrder = pinger.roundTrips.every((rt, i) => rt.seq === i + 1);
  const intruderRefused = verifiers.ponger.rejections.unknown_sender === 1;
  const ok =
    !timedOut &&
    pinger.roundTrips.length === ROUNDS &&
    inOrder &&
    ponger.served === ROUNDS &&
    verified === 2 * ROUNDS &&
    rejected === 1 &&
    intruderRefused &&
    pinger.problems.length === 0;
  console.log(
    `pongs served: ${ponger.served}; messages verified: ${verified} (pinger ${verifiers.pinger.verified}, ponger ${verifiers.ponger.verified}); rejected: ${rejected}`,
  );
  console.log(`intruder's ping refused (unknown sender): ${intruderRefused ? 'yes' : 'no'}`);
  console.log(`summary: ${pinger.roundTrips.length} of ${ROUNDS} round trips, ${ok ? 'OK' : timedOut ? 'TIMED OUT' : 'FAILED'}`);
  return ok ? 0 : 1;
}

// A failure rejects: Node prints it and exits with code 1.
process.exitCode = await main();
