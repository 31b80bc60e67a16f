// Two operating-system processes talk over TcpTransport on 127.0.0.1. This script listens on
// a free port, then starts src/peer.ts as a second Node process (with the same node flags it
// was itself started with) and hands it its own public key and port. The peer listens on a
// free port of its own and prints one line, "READY <port> <public key hex>". Each side
// registers the other's public key in an IdentityRegistry, so every message is verified on
// arrival. The parent sends three signed pings; the peer answers each with a signed pong.
// Exit code 0 when all pongs arrived verified and the peer exited 0; 1 otherwise.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Identity, bytesToHex, createMessage, hexToBytes, signMessage } from '@converge/core';
import { IdentityRegistry, MessageVerifier, receiveVerified } from '@converge/network';
import { TcpTransport } from '@converge/transport-tcp';

const PINGS = 3;

/** The peer's process: its first stdout line ("READY ..."), and when it has closed. */
interface PeerProcess {
  child: ChildProcess;
  ready: Promise<string>;
  exited: Promise<unknown>;
}

// Step 1: start src/peer.ts as a second process, handing it our public key and port.
function startPeer(me: Identity, port: number): PeerProcess {
  // process.execArgv holds the flags this process got (e.g. --import tsx), so the peer runs
  // its TypeScript the same way.
  const peerScript = fileURLToPath(new URL('./peer.ts', import.meta.url));
  const child = spawn(process.execPath, [...process.execArgv, peerScript, bytesToHex(me.publicKey), String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // 'close' (not 'exit'): fires once the peer's stdout has been read to the end too.
  const exited = once(child, 'close');

  // The peer's first stdout line says where it listens; the rest is its account, relayed.
  let announce!: (line: string) => void;
  const ready = new Promise<string>((resolve) => (announce = resolve));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (line.startsWith('READY ')) announce(line);
    else console.log(`  peer | ${line}`);
  });
  return { child, ready, exited };
}

// Step 2: talk to the peer; returns how many pings got their verified pong.
async function talk(me: Identity, transport: TcpTransport, verifier: MessageVerifier, registry: IdentityRegistry, peerProcess: PeerProcess): Promise<number> {
  const line = await Promise.race([peerProcess.ready, peerProcess.exited.then(() => 'exited')]);
  const [, port, keyHex] = line.split(' ');
  if (!port || !keyHex) {
    console.log('the peer exited before it was ready');
    return 0;
  }
  const peer = registry.register(hexToBytes(keyHex)); // the peer's fingerprint, derived from its key
  transport.addPeer(peer, { host: '127.0.0.1', port: Number(port) });
  console.log(`peer ${peer.slice(0, 8)} is a separate process (pid ${peerProcess.child.pid}) listening on 127.0.0.1:${port}`);
  for (let i = 1; i <= PINGS; i++) {
    const text = `ping ${i}`;
    await transport.send(signMessage(createMessage({ recipient: peer, payload: { text } }), me));
    console.log(`sent "${text}"`);
    const reply = await receiveVerified(transport, verifier, { timeoutMs: 10_000 });
    const got = (reply?.payload as { text?: string } | undefined)?.text;
    const ok = reply !== null && reply.sender === peer && got === `pong ${i}`;
    console.log(`got "${got ?? 'nothing'}" from ${reply?.sender.slice(0, 8) ?? '-'} (signature verified: ${ok ? 'yes' : 'no'})`);
    if (!ok) return i - 1;
  }
  return PINGS;
}

async function main(): Promise<number> {
  const me = Identity.generate();
  const registry = new IdentityRegistry();
  const verifier = new MessageVerifier({ registry });
  const transport = new TcpTransport({ host: '127.0.0.1', port: 0, identity: me });
  await transport.start();
  console.log(`parent ${me.fingerprint.slice(0, 8)} listening on 127.0.0.1:${transport.port}`);

  const peerProcess = startPeer(me, transport.port);
  const killer = setTimeout(() => peerProcess.child.kill(), 30_000); // never leave a stray process behind
  let pongs: number;
  try {
    pongs = await talk(me, transport, verifier, registry, peerProcess);
  } catch (err) {
    peerProcess.child.kill();
    throw err;
  } finally {
    // Wait for the peer to finish (it exits by itself after answering, or after its own timeout).
    await peerProcess.exited;
    clearTimeout(killer);
    await transport.stop();
  }
  const code = peerProcess.child.exitCode;
  console.log(`peer exited with code ${code}`);
  const rejected = Object.values(verifier.rejections).reduce((a, b) => a + b, 0);
  const ok = code === 0 && pongs === PINGS && verifier.verified === PINGS && rejected === 0;
  console.log(
    `summary: ${pongs} of ${PINGS} round trips between two processes, ${verifier.verified} pongs verified, ${rejected} rejected, ${ok ? 'OK' : 'FAILED'}`,
  );
  return ok ? 0 : 1;
}

// A failure rejects: Node prints it and exits with code 1.
process.exitCode = await main();
