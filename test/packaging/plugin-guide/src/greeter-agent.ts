import { Agent, Decisions, type Decision, type Message } from '@converge/core';

/**
 * An Agent from scratch: it answers every `{ name }` message with a greeting. It never signs
 * or sends by hand; it returns decisions, and the runtime signs and sends them.
 */
export class GreeterAgent extends Agent {
  /** Messages it could not read (counted, not dropped silently). */
  ignored = 0;

  /** One `sendMessage` decision per greeting asked for. */
  decide(messages: readonly Message[]): Decision[] {
    const out: Decision[] = [];
    for (const m of messages) {
      const name = (m.payload as { name?: unknown } | null)?.name;
      if (typeof name !== 'string') {
        this.ignored++;
        continue;
      }
      out.push(Decisions.sendMessage(m.sender, { greeting: `hello, ${name}` }));
    }
    return out;
  }
}
