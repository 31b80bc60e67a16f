// TcpTransport passes the shared Transport compliance suite (64 KiB frames keep the size test fast;
// b's small receive bound makes the slow-consumer check pause and resume the connection often).
import { transportComplianceTests } from '@converge/compliance/transport';
import { TcpTransport } from '../src/index.js';

transportComplianceTests({
  name: 'TcpTransport',
  capabilities: { broadcast: false, topics: false, backpressure: true }, // routes by recipient address or transport.tcp topic only
  createPair: async () => {
    const [a, b] = [
      new TcpTransport({ agentId: 'a', maxFrameBytes: 65_536 }),
      new TcpTransport({ agentId: 'b', maxFrameBytes: 65_536, maxReceiveQueue: 1_000 }),
    ];
    return { a, b, aId: 'a', bId: 'b', maxMessageBytes: 65_536, connect: async () => (a.addPeer('b', b.address), b.addPeer('a', a.address)) };
  },
});
