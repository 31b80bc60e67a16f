// Shared by the page (core-page.ts) and the Node test (core-browser.test.ts): both describe a
// message the same way so that their descriptions compare as plain values.
import { bytesToHex, encodeValue, topicToString, type Message } from '@converge/core';

/** What a decoded message looks like, in comparable strings. */
export function describeMessage(m: Message): Record<string, unknown> {
  return {
    id: m.id,
    sender: m.sender,
    recipient: m.recipient,
    taskId: m.taskId,
    timestamp: m.timestamp,
    signature: bytesToHex(m.signature),
    topics: m.topics.map(topicToString),
    payload: bytesToHex(encodeValue(m.payload)),
  };
}
