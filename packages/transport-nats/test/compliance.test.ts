import { transportComplianceTests } from '@converge/compliance/transport';
import { NatsTransport } from '../src/index.js';
import { NATS_URL, uniquePrefix } from './helpers.js';

transportComplianceTests({
  name: 'NatsTransport',
  // Publishing to a subject nobody listens on is not an error in core NATS: no side can know
  // the recipient does not exist (it may subscribe later), so the suite checks only that the
  // message reaches no one else.
  capabilities: { refusesUnknownRecipient: false },
  createPair: async () => {
    const subjectPrefix = uniquePrefix('compliance');
    const [a, b, c] = ['a', 'b', 'c'].map((agentId) => new NatsTransport({ servers: NATS_URL, agentId, subjectPrefix }));
    return { a: a!, b: b!, c: c!, aId: 'a', bId: 'b', maxMessageBytes: 1024 * 1024 };
  },
});
