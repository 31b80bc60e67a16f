// Interop with the reference's TCP framing: our writer's bytes equal tcp_frames byte for byte
// on the wire, and a raw socket playing the reference (stream.bytes in random chunkings)
// gets every message through, decoded and verifying with the vector public keys.
import net from 'node:net';
import { expect, it } from 'vitest';
import { bytesToHex, hexToBytes, verifyMessage } from '@converge/core';
import { TcpTransport } from '../src/index.js';
import { chunk, cleanupAfterEach, describeWithVectors, until, vectorMessage, vectors } from '../../../test/support/transport-helpers.js';

const cleanup = cleanupAfterEach();

describeWithVectors('TCP interop with the reference framing', () => {
  const tcp = vectors.tcp_frames;
  const stream = hexToBytes(tcp.stream.bytes);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const byName = new Map<string, any>(tcp.frames.map((f: any) => [f.name, f]));

  it('writes exactly stream.bytes on one pooled connection when sending the vector messages (routed by their transport.tcp topic)', async () => {
    const topic = tcp.frames[0].input.topics.find((t: { namespace: string }) => t.namespace === 'transport.tcp');
    const chunks: Buffer[] = [];
    let connections = 0;
    const server = net.createServer((s) => {
      connections++;
      s.on('data', (d) => chunks.push(d));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(topic.attributes.port, topic.attributes.host, resolve);
    });
    cleanup.push(() => new Promise((r) => server.close(r)));
    const t = new TcpTransport({ listen: false });
    await t.start();
    cleanup.push(() => t.stop());
    for (const name of tcp.stream.names) {
      const f = byName.get(name);
      await t.send(vectorMessage(f.input, f.signer));
    }
    await until(() => Buffer.concat(chunks).byteLength >= stream.byteLength);
    expect(bytesToHex(Buffer.concat(chunks))).toBe(tcp.stream.bytes);
    expect(connections).toBe(1);
  });

  it('receives stream.bytes written by a plain socket in random chunkings: every message, decoded, verifying', async () => {
    const t = new TcpTransport();
    await t.start();
    cleanup.push(() => t.stop());
    const keys = new Map<string, Uint8Array>(vectors.identities.map((v: { name: string; public_key: string }) => [v.name, hexToBytes(v.public_key)]));
    for (let round = 0; round < 20; round++) {
      const cuts = Array.from({ length: 1 + (round % 12) }, () => Math.floor(Math.random() * stream.byteLength));
      const socket = net.connect({ host: '127.0.0.1', port: t.port });
      await new Promise((r) => socket.once('connect', r));
      for (const part of chunk(stream, cuts)) {
        socket.write(part);
        await new Promise((r) => setImmediate(r)); // separate reads where the kernel allows
      }
      for (const name of tcp.stream.names) {
        const f = byName.get(name);
        const m = await t.receive({ timeoutMs: 10_000 });
        expect(m).not.toBeNull();
        expect(m!.id).toBe(f.input.id);
        expect(m!.sender).toBe(f.input.sender);
        expect(m!.recipient).toBe(f.input.recipient);
        expect(m!.taskId).toBe(f.input.task_id);
        expect(m!.timestamp).toBe(f.input.timestamp);
        expect(bytesToHex(m!.signature)).toBe(f.signature);
        expect(verifyMessage(m!, keys.get(f.signer)!)).toBe(true);
      }
      socket.destroy();
    }
    await until(() => t.openConnections === 0);
    expect(t.stats.framesReceived).toBe(20 * tcp.frames.length);
    expect(t.stats.rejectedMalformed + t.stats.rejectedTruncated + t.stats.rejectedOversize).toBe(0);
  });
});
