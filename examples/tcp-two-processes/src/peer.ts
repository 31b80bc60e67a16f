// The second process of the tcp-two-processes example (started by main.ts; not meant to be run
// by hand). Arguments: the parent's public key (hex) and the port the parent listens on.
// It listens on 127.0.0.1 (a free port), tells the parent its port and public key with one
// line on stdout, then answers each verified ping with a signed pong. Exit code 0 after
// answering PINGS verified pings; 1 on a timeout or a message that fails verification.
import { Identity, createMessage, hexToBytes, bytesToHex, signMessage } from '@converge/core';
import { IdentityRegistry, MessageVerifier, receiveVerified } from '@converge/network';
import { TcpTransport } from '@converge/transport-tcp';

const PINGS = 3;

async function main(): Promise<number> {
  const [parentKeyHex, parentPort] = process.argv.slice(2);
  if (!parentKeyHex || !parentPort) throw new Error('usage: peer.ts <parent public key hex> <parent port>');
  const me = Identity.generate();
  const registry = new IdentityRegistry();
  const parent = registry.register(hexToBytes(parentKeyHex)); // returns the parent's fingerprint
  const verifier = new MessageVerifier({ registry });

  const transport = new TcpTransport({ host: '127.0.0.1', port: 0, identity: me });
  transport.addPeer(parent, { host: '127.0.0.1', port: Number(parentPort) });
  await transport.start();
  // The one line the parent waits for: where to reach us and which key our messages verify with.
  console.log(`READY ${transport.port} ${bytesToHex(me.publicKey)}`);

  let answered = 0;
  try {
    while (answered < PINGS) {
      // receiveVerified returns only messages signed by a registered key (the parent's).
      const msg = await receiveVerified(transport, verifier, { timeoutMs: 10_000 });
      if (msg === null) {
        console.log(`timed out after ${answered} pings (rejected: ${JSON.stringify(verifier.rejections)})`);
        return 1;
      }
      const { text } = msg.payload as { text: string };
      console.log(`got "${text}" from ${msg.sender.slice(0, 8)} (signature verified)`);
      const reply = `pong ${text.split(' ')[1]}`;
      await transport.send(signMessage(createMessage({ recipient: parent, payload: { text: reply } }), me));
      console.log(`sent "${reply}" (signed by ${me.fingerprint.slice(0, 8)})`);
      answered++;
    }
  } finally {
    await transport.stop();
  }
  console.log(`done: ${answered} pings answered, ${verifier.verified} messages verified`);
  return 0;
}

// A failure rejects: Node prints it and exits with code 1.
process.exitCode = await main();
