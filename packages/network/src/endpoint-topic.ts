import type { Message, Topic, TopicAttributeValue } from '@converge/core';

/** Namespace of the topic that carries a TCP address (attributes `host`, `port`), as in the reference. */
export const TCP_TOPIC_NAMESPACE = 'transport.tcp';

/** A peer's TCP address. */
export interface TcpAddress {
  host: string;
  port: number;
}

function attr(topic: Topic, name: string): TopicAttributeValue | undefined {
  const a = topic.attributes;
  return a instanceof Map ? a.get(name) : a[name];
}

/** The address a `transport.tcp` topic of `msg` names, if any (host a string, port 1..65535). */
export function tcpAddressOf(msg: Message): TcpAddress | undefined {
  for (const t of msg.topics) {
    if (t.namespace !== TCP_TOPIC_NAMESPACE) continue;
    const host = attr(t, 'host');
    const raw = attr(t, 'port');
    const port = typeof raw === 'bigint' ? Number(raw) : typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw) : NaN;
    if (typeof host === 'string' && host !== '' && Number.isInteger(port) && port > 0 && port < 65536) return { host, port };
  }
  return undefined;
}
