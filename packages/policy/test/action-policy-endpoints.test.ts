// M5 (policy side): an endpoint topic (`transport.tcp` host/port) must not route a SendMessage
// around allowRecipients. ActionPolicy refuses endpoints not in allowEndpoints whenever it
// restricts recipients or lists endpoints.
import { describe, expect, it } from 'vitest';
import { ConfigError, Decisions, createTopic } from '@converge/core';
import { ActionPolicy, endpointsOfTopics } from '../src/index.js';

const via = (host: string, port: number | string, recipient: string | null = null) =>
  Decisions.sendMessage(recipient, { x: 1 }, { topics: [createTopic('chat'), createTopic('transport.tcp', { host, port })] });

describe('ActionPolicy endpoint allowlist (M5)', () => {
  it('with allowRecipients, refuses any endpoint topic by default (a topic must not route around it)', () => {
    const p = new ActionPolicy({ allow: ['SendMessage'], allowRecipients: [null, 'bob'] });
    expect(p.check(via('10.0.0.9', 22))).toEqual({ allowed: false, reason: 'endpoint 10.0.0.9:22 is not allowed' });
    expect(p.check(via('10.0.0.9', '22', 'bob'))).toMatchObject({ allowed: false });
    // Without an endpoint topic, the recipient allowlist alone decides.
    expect(p.check(Decisions.sendMessage('bob', 1, { topics: [createTopic('chat')] }))).toEqual({ allowed: true });
    expect(p.stats()).toEqual({ checked: 3, refused: 2 });
  });

  it('allows exactly the endpoints listed, or any with *', () => {
    const p = new ActionPolicy({ allow: ['*'], allowEndpoints: ['127.0.0.1:7000'] });
    expect(p.check(via('127.0.0.1', 7000))).toEqual({ allowed: true });
    expect(p.check(via('127.0.0.1', 7001))).toMatchObject({ allowed: false, reason: 'endpoint 127.0.0.1:7001 is not allowed' });
    expect(new ActionPolicy({ allow: ['*'], allowRecipients: [null], allowEndpoints: ['*'] }).check(via('1.2.3.4', 5))).toEqual({ allowed: true });
    // Neither list: this policy does not check endpoints (the runtime's executor does).
    expect(new ActionPolicy({ allow: ['*'] }).check(via('1.2.3.4', 5))).toEqual({ allowed: true });
    expect(() => new ActionPolicy({ allow: ['*'], allowEndpoints: [''] })).toThrow(ConfigError);
  });

  it('reads endpoints as the TCP transport does (string host, port 1..65535; others do not route)', () => {
    expect(
      endpointsOfTopics([
        createTopic('transport.tcp', { host: 'h', port: 1 }),
        createTopic('transport.tcp', { host: 'h', port: 0 }),
        createTopic('transport.tcp', { port: 5 }),
      ]),
    ).toEqual(['h:1']);
    expect(
      endpointsOfTopics([
        {
          namespace: 'transport.tcp',
          attributes: new Map<string, unknown>([
            ['host', 'm'],
            ['port', 9n],
          ]),
        },
      ]),
    ).toEqual(['m:9']);
    expect(endpointsOfTopics(undefined)).toEqual([]);
  });
});
