// Hostile input from raw sockets while a legitimate peer keeps sending: every case is logged
// and counted, the process keeps running, nothing buffers without bound, and the legitimate
// peer's messages all arrive. Signature and replay checks are receiveVerified's job.
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Identity, createMessage, encodeMessage, signMessage, type Message } from '@converge/core';
import { IdentityRegistry } from '@converge/network';
import { MessageVerifier, receiveVerified } from '@converge/network';
import { encodeFrame } from '@converge/network/internal';
import { TcpTransport } from '../src/index.js';
import { cleanupAfterEach, started, until } from '../../../test/support/transport-helpers.js';

const alice = Identity.generate();
const mallory = Identity.generate();
const bob = Identity.generate();
const cleanup = cleanupAfterEach();

interface Logged {
  reason?: string;
}

function rawSocket(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.on('error', reject);
  });
}

function closed(s: net.Socket): Promise<void> {
  return new Promise((r) => (s.closed ? r() : s.once('close', () => r())));
}

describe('TcpTransport under hostile input', () => {
  it('survives random bytes, a 4 GiB prefix, a cut frame, malformed, badly signed and replayed frames', async () => {
    const logged: Logged[] = [];
    const logger = { warn: (o: Logged) => logged.push(o), debug: () => undefined, info: () => undefined, error: (o: Logged) => logged.push(o) };
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const b = await started(new TcpTransport({ identity: bob, logger: logger as any }), cleanup);
    const a = await started(new TcpTransport({ identity: alice }), cleanup);
    a.addPeer(bob.fingerprint, b.address);

    // The legitimate peer sends throughout.
    const legit = 300;
    const sender = (async () => {
      for (let i = 0; i < legit; i++) {
        await a.send(signMessage(createMessage({ recipient: bob.fingerprint, payload: { i } }), alice));
        if (i % 50 === 0) await new Promise((r) => setImmediate(r));
      }
    })();

    // 1. Random bytes: whatever the first 4 bytes say, the server refuses or drops, never crashes.
    const s1 = await rawSocket(b.port);
    s1.write(Buffer.concat([Buffer.from([0xff, 0x00, 0x00, 0x00]), randomBytes(64 * 1024)]));
    await closed(s1);
    // 2. A 4 GiB length prefix: the connection is closed at once, nothing allocated.
    const s2 = await rawSocket(b.port);
    s2.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3]));
    await closed(s2);
    // 3. A frame cut in the middle, then the socket closes.
    const good = encodeFrame(encodeMessage(signMessage(createMessage({ recipient: bob.fingerprint, payload: 'cut' }), mallory)));
    const s3 = await rawSocket(b.port);
    s3.end(good.subarray(0, good.byteLength >> 1));
    await closed(s3);
    // 4. Malformed msgpack in a well-delimited frame: dropped, the connection continues.
    const s4 = await rawSocket(b.port);
    const afterMalformed = signMessage(createMessage({ recipient: bob.fingerprint, payload: 'after-malformed' }), mallory);
    s4.write(Buffer.concat([Buffer.from([0, 0, 0, 3, 0xc1, 0xc1, 0xc1]), encodeFrame(encodeMessage(afterMalformed))]));
    // 5. A valid frame claiming alice, with a signature that is not hers.
    const forged = createMessage({ sender: alice.fingerprint, recipient: bob.fingerprint, payload: 'forged', signature: new Uint8Array(64).fill(7) });
    s4.write(encodeFrame(encodeMessage(forged)));
    // 6. A replay: the same signed frame twice.
    const once = signMessage(createMessage({ recipient: bob.fingerprint, payload: 'once' }), mallory);
    s4.write(encodeFrame(encodeMessage(once)));
    s4.write(encodeFrame(encodeMessage(once)));

    await sender;
    // Everything well-framed was delivered to receive (3 frames from s4 + the replay + legit ones).
    await until(() => b.stats.framesReceived === legit + 4);
    s4.destroy();
    await until(() => b.openConnections === 1); // only a's pooled connection is left
    expect(b.stats.rejectedOversize).toBe(2); // random bytes (prefix 0xff000000) and 4 GiB
    expect(b.stats.rejectedTruncated).toBe(1);
    expect(b.stats.rejectedMalformed).toBe(1);
    expect(logged.map((l) => l.reason).sort()).toEqual(['malformed', 'oversize', 'oversize', 'truncated']);

    const registry = new IdentityRegistry();
    registry.register(alice);
    registry.register(mallory);
    const verifier = new MessageVerifier({ registry });
    const accepted: Message[] = [];
    for (;;) {
      const m = await receiveVerified(b, verifier, { timeoutMs: 1 });
      if (m === null) break;
      accepted.push(m);
    }
    expect(verifier.rejections.bad_signature).toBe(1);
    expect(verifier.rejections.replay).toBe(1);
    const legitGot = accepted.filter((m) => m.sender === alice.fingerprint).map((m) => (m.payload as { i: number }).i);
    expect(legitGot).toEqual(Array.from({ length: legit }, (_, i) => i));
    expect(accepted.filter((m) => m.sender === mallory.fingerprint).map((m) => m.payload)).toEqual(['after-malformed', 'once']);
    expect(b.queued).toBe(0);
  });
});
