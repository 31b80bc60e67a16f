// WebSocketTransport (a: client, b: server) passes the shared Transport compliance suite.
import { transportComplianceTests } from '@converge/compliance/transport';
import { WebSocketTransport } from '../src/index.js';

transportComplianceTests({
  name: 'WebSocketTransport',
  // A client sends everything to its server, so the server (b) is the side that knows which
  // recipients exist and refuses the others (ERR_NO_ROUTE).
  capabilities: { broadcast: true, topics: false, refusesUnknownRecipient: 'b', backpressure: true },
  createPair: async () => {
    const b = new WebSocketTransport({ port: 0, agentId: 'b', maxFrameBytes: 65_536, maxReceiveQueue: 1_000 });
    const a = new WebSocketTransport({ url: () => b.listenUrl, agentId: 'a', maxFrameBytes: 65_536 });
    return { a, b, aId: 'a', bId: 'b', maxMessageBytes: 65_536 };
  },
});
