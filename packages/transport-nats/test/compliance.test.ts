import { transportComplianceTests } from '@converge/compliance/transport';
import { NatsTransport } from '../src/index.js';
import { NATS_URL, uniquePrefix } from './helpers.js';

transportComplianceTests({
  name: 'NatsTransport',
  createPair: async () => {
    const subjectPrefix = uniquePrefix('compliance');
    return { a: new NatsTransport({ servers: NATS_URL, agentId: 'a', subjectPrefix }),
      b: new NatsTransport({ servers: NATS_URL, agentId: 'b', subjectPrefix }), aId: 'a', bId: 'b', maxMessageBytes: 1024 * 1024 };
  },
});
