import { describe, expect, it } from 'vitest';
import { runExample } from '../../../test/support/run-example.js';

describe('examples/tcp-two-processes', () => {
  it('runs as a program: a second process answers 3 signed pings over TCP, all verified both ways, both exit 0', async () => {
    const { stdout, lines } = await runExample(import.meta.url);
    const parentLine = /^parent ([0-9a-f]{8}) listening on 127\.0\.0\.1:(\d+)$/m.exec(stdout);
    const peerLine = /^peer ([0-9a-f]{8}) is a separate process \(pid (\d+)\) listening on 127\.0\.0\.1:(\d+)$/m.exec(stdout);
    expect(parentLine).not.toBeNull();
    expect(peerLine).not.toBeNull();
    const [parentId, parentPort] = [parentLine![1], Number(parentLine![2])];
    const [peerId, pid, peerPort] = [peerLine![1], Number(peerLine![2]), Number(peerLine![3])];
    expect(parentPort).toBeGreaterThan(0);
    expect(peerPort).toBeGreaterThan(0);
    expect(peerPort).not.toBe(parentPort);
    expect(pid).not.toBe(process.pid);
    expect(parentId).not.toBe(peerId);
    for (const i of [1, 2, 3]) {
      // Parent -> peer, verified by the peer (relayed from the child's stdout) ...
      expect(stdout).toContain(`  peer | got "ping ${i}" from ${parentId} (signature verified)`);
      expect(stdout).toContain(`  peer | sent "pong ${i}" (signed by ${peerId})`);
      // ... and peer -> parent, verified by the parent.
      expect(stdout).toContain(`got "pong ${i}" from ${peerId} (signature verified: yes)`);
    }
    expect(stdout).toContain('  peer | done: 3 pings answered, 3 messages verified');
    expect(stdout).toContain('peer exited with code 0');
    expect(lines.at(-1)).toBe('summary: 3 of 3 round trips between two processes, 3 pongs verified, 0 rejected, OK');
  });
});
