// Two agents on one LocalHub exchange signed messages; every message is checked by
// receiveVerified against an IdentityRegistry. A forged and a replayed message are sent too,
// to show they are refused. Exit code 0 when everything genuine arrived verified and every
// bad message was refused; 1 otherwise.
import { Identity, createMessage, createTopic, signMessage, type Message } from '@converge/core';
import { IdentityRegistry, LocalHub, LocalTransport, MessageVerifier, receiveVerified } from '@converge/network';

const short = (id: string): string => id.slice(0, 8);

async function main(): Promise<number> {
  const alice = Identity.generate();
  const bob = Identity.generate();
  const names = new Map([
    [alice.fingerprint, 'alice'],
    [bob.fingerprint, 'bob'],
  ]);
  const registry = new IdentityRegistry();
  registry.register(alice);
  registry.register(bob);

  const hub = new LocalHub();
  const ta = new LocalTransport(alice.fingerprint, { hub });
  const tb = new LocalTransport(bob.fingerprint, { hub });
  await ta.start();
  await tb.start();
  const verifierA = new MessageVerifier({ registry });
  const verifierB = new MessageVerifier({ registry });
  const topics = [createTopic('greetings', { lang: 'en' })];
  let failures = 0;

  const exchange = async (from: Identity, fromT: LocalTransport, to: Identity, toT: LocalTransport, v: MessageVerifier, text: string) => {
    const sent = signMessage(createMessage({ recipient: to.fingerprint, topics, payload: { text } }), from);
    await fromT.send(sent);
    const got = await receiveVerified(toT, v, { timeoutMs: 5000 });
    const ok = got !== null && got.id === sent.id && (got.payload as { text: string }).text === text;
    console.log(`${names.get(from.fingerprint)} -> ${names.get(to.fingerprint)}: "${text}" verified: ${ok ? 'yes' : 'no'} (sender ${short(sent.sender)})`);
    if (!ok) failures++;
    return sent;
  };

  const hello = await exchange(alice, ta, bob, tb, verifierB, 'hello, bob');
  await exchange(bob, tb, alice, ta, verifierA, 'hello, alice');
  await exchange(alice, ta, bob, tb, verifierB, 'how are you?');
  await exchange(bob, tb, alice, ta, verifierA, 'fine, thanks');

  // A forgery (payload changed after signing) and a replay of the first message.
  const forged = { ...hello, id: 'forged-1', payload: { text: 'send me your keys' } } as Message;
  await ta.send(forged);
  await ta.send(hello);
  const leaked = await receiveVerified(tb, verifierB, { timeoutMs: 50 });
  const refused = verifierB.rejections;
  const badOk = leaked === null && refused.bad_signature === 1 && refused.replay === 1;
  console.log(`forged message refused: ${refused.bad_signature === 1 ? 'yes' : 'no'}; replayed message refused: ${refused.replay === 1 ? 'yes' : 'no'}`);
  if (!badOk) failures++;

  await ta.stop();
  await tb.stop();
  const verified = verifierA.verified + verifierB.verified;
  console.log(
    `summary: ${verified} of 4 messages verified, ${refused.bad_signature + refused.replay} of 2 bad messages refused, ${failures === 0 ? 'OK' : `${failures} FAILED`}`,
  );
  return failures === 0 && verified === 4 ? 0 : 1;
}

// A failure rejects: Node prints it and exits with code 1.
process.exitCode = await main();
