// Endpoint routing under policy: a signed `transport.tcp` topic tells the TCP transport where
// to send a message whose recipient it has no address for. Left unchecked, any decision (an
// LLM's, say) could route bytes to any host:port past `ActionPolicy.allowRecipients`.
import type { Message } from '@converge/core';
import { TCP_TOPIC_NAMESPACE, tcpAddressOf } from '@converge/network';
import type { Transport } from '@converge/core';
import { EndpointNotAllowedError } from './errors.js';

/** A transport with an address book (`TcpTransport.peerAddress`). */
interface AddressBook {
  peerAddress(fingerprint: string): { host: string; port: number } | undefined;
}

function hasBook(t: unknown): t is AddressBook {
  return typeof (t as Partial<AddressBook> | null)?.peerAddress === 'function';
}

/**
 * Which endpoints outgoing messages may name. An endpoint topic (`transport.tcp` with a
 * `host` and `port`, read exactly as the TCP transport reads it) is allowed when its
 * `host:port` is configured (`allow`; `'*'` allows any, the unchecked behaviour), or when the
 * topic does not route at all because the transport's address book knows the recipient (an
 * address learnt from discovery or configured with `addPeer`/`peers`: the book wins over the
 * topic). Anything else is refused with `EndpointNotAllowedError` before the message is sent.
 */
export class EndpointGuard {
  readonly #allow: ReadonlySet<string>;

  /** @param allow - `host:port` endpoints allowed beside the address book (`'*'`: any). */
  constructor(allow: readonly string[] = []) {
    this.#allow = new Set(allow);
  }

  /** Throws `EndpointNotAllowedError` if `message` names an endpoint that is not allowed. */
  check(message: Message, transport: Transport): void {
    if (this.#allow.has('*')) return;
    if (message.recipient !== null && hasBook(transport) && transport.peerAddress(message.recipient) !== undefined) return;
    for (const topic of message.topics) {
      if (topic.namespace !== TCP_TOPIC_NAMESPACE) continue;
      const addr = tcpAddressOf({ ...message, topics: [topic] });
      if (addr === undefined) continue; // not a usable address: the transport does not route by it
      const endpoint = `${addr.host}:${addr.port}`;
      if (!this.#allow.has(endpoint)) throw new EndpointNotAllowedError(endpoint);
    }
  }
}
