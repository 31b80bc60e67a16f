import { transportComplianceTests } from '@converge/compliance/transport';
import { Hub, HubTransport } from '../src/hub-transport.js';

transportComplianceTests({
  name: 'HubTransport',
  createPair: async () => {
    const hub = new Hub(64 * 1024);
    const [a, b, c] = ['a', 'b', 'c'].map((id) => new HubTransport(id, hub));
    return { a: a!, b: b!, c: c!, aId: 'a', bId: 'b', maxMessageBytes: hub.maxMessageBytes };
  },
});
