// Encrypted, signed messages with @converge/extensions/crypto. Alice and Bob share a password;
// each derives the same AES-256 key from it with PBKDF2 (`deriveKey`, the reference's
// derive_key). Alice encrypts the payload and *then* signs the message, so the signature covers
// the ciphertext; Bob verifies the signature first and only then decrypts.
// The example then shows what the receiver catches: a flipped ciphertext bit (bad signature,
// and CryptoError from decryption), a wrong key, and Carol — a registered agent with the key —
// lifting Alice's ciphertext into a message of her own (valid signature, but the ciphertext is
// bound to Alice's message id, sender and recipient: CryptoError). Last, `bindMetadata: false`,
// the form the Python reference reads and writes, which does not catch that lift.
// Exit code 0 when everything genuine decrypted and every attack was caught; 1 otherwise.
import { CryptoError, Identity, createMessage, signMessage, verifyMessage, type Message } from '@converge/core';
import { decrypt, decryptPayload, deriveKey, encryptPayload, secureRandomBytes } from '@converge/extensions/crypto';
import { IdentityRegistry, LocalHub, LocalTransport, MessageVerifier, receiveVerified } from '@converge/network';

/** Runs `fn`; returns "CryptoError (reason)" if it threw one, else "decrypted". */
function tryDecrypt(fn: () => unknown): string {
  try {
    fn();
    return 'decrypted';
  } catch (err) {
    if (err instanceof CryptoError) return `CryptoError (${err.message})`;
    throw err;
  }
}

/** A copy of `msg` with one bit of its ciphertext flipped (as a network attacker could). */
function flipBit(msg: Message): Message {
  const sealed = Buffer.from((msg.payload as { _encrypted: string })._encrypted, 'base64');
  sealed[20]! ^= 0x01;
  return createMessage({ ...msg, topics: [...msg.topics], payload: { _encrypted: sealed.toString('base64') } });
}

const [alice, bob, carol] = [Identity.generate(), Identity.generate(), Identity.generate()];
const secret = { text: 'the vault code is 4711', amount: 250 };

let failures = 0;
function check(what: string, ok: boolean): void {
  console.log(`${what}: ${ok ? 'yes' : 'NO'}`);
  if (!ok) failures++;
}

/** Alice's key, Bob's (the same, derived on his side) and one from a wrong password. */
interface Keys {
  key: Uint8Array;
  bobKey: Uint8Array;
  wrongKey: Uint8Array;
}

// Step 1: both ends derive the key from the shared password and a salt sent in the clear.
async function deriveKeys(): Promise<Keys> {
  const password = 'correct horse battery staple';
  const salt = secureRandomBytes(16);
  const t0 = performance.now();
  const key = await deriveKey(password, salt); // PBKDF2-HMAC-SHA256, 100,000 iterations, 32 bytes
  console.log(`derived a ${key.byteLength * 8}-bit key with PBKDF2 (100,000 iterations) in ${(performance.now() - t0).toFixed(0)} ms`);
  return { key, bobKey: await deriveKey(password, salt), wrongKey: await deriveKey('Tr0ub4dor&3', salt) };
}

// Step 2: encrypt, then sign, send; Bob verifies (signature, known sender, not a replay), then
// decrypts. `sender: alice` because the metadata bound into the ciphertext must name the sender
// that signMessage is about to set. Returns the message as sent.
async function sendSealed({ key, bobKey }: Keys): Promise<Message> {
  const registry = new IdentityRegistry();
  for (const who of [alice, bob, carol]) registry.register(who);
  const hub = new LocalHub();
  const [ta, tb] = [new LocalTransport(alice.fingerprint, { hub }), new LocalTransport(bob.fingerprint, { hub })];
  await ta.start();
  await tb.start();
  const verifier = new MessageVerifier({ registry });

  const sealed = encryptPayload(createMessage({ recipient: bob.fingerprint, payload: secret }), key, { sender: alice });
  const sent = signMessage(sealed, alice);
  await ta.send(sent);
  const ciphertext = (sent.payload as { _encrypted: string })._encrypted;
  console.log(`alice -> bob: payload on the wire is {"_encrypted": "${ciphertext.slice(0, 24)}..."} (${ciphertext.length} base64 chars)`);

  const got = await receiveVerified(tb, verifier, { timeoutMs: 5_000 });
  const opened = got ? (decryptPayload(got, bobKey) as typeof secret) : null;
  console.log(`bob verified the signature and decrypted: ${JSON.stringify(opened)}`);
  check('decrypted payload equals what alice sent', opened !== null && opened.text === secret.text && opened.amount === secret.amount);
  check('encryptPayload refuses an already signed message (encrypt, then sign)', tryDecrypt(() => encryptPayload(sent, key)).startsWith('CryptoError'));
  await ta.stop();
  await tb.stop();
  return sent;
}

// Step 3: what the receiver catches.
function catchAttacks(sent: Message, { bobKey, wrongKey }: Keys): void {
  // 1. A flipped bit: the signature no longer verifies, and decryption would fail as well.
  const tampered = flipBit(sent);
  check('tampered message: signature fails', !verifyMessage(tampered, alice.publicKey));
  const tamperedResult = tryDecrypt(() => decryptPayload(tampered, bobKey));
  console.log(`tampered message: ${tamperedResult}`);
  check('tampered message: decryption refused', tamperedResult.startsWith('CryptoError'));

  // 2. The right message with the wrong key.
  const wrongKeyResult = tryDecrypt(() => decryptPayload(sent, wrongKey));
  console.log(`wrong key: ${wrongKeyResult}`);
  check('wrong key: decryption refused', wrongKeyResult.startsWith('CryptoError'));

  // 3. Carol (registered, knows the key) re-sends Alice's ciphertext as her own message.
  const lifted = signMessage(createMessage({ recipient: bob.fingerprint, payload: sent.payload }), carol);
  check("lifted ciphertext: carol's signature verifies", verifyMessage(lifted, carol.publicKey));
  const liftedResult = tryDecrypt(() => decryptPayload(lifted, bobKey));
  console.log(`lifted ciphertext: ${liftedResult}`);
  check('lifted ciphertext: decryption refused (bound to id, sender, recipient)', liftedResult.startsWith('CryptoError'));
}

// Step 4: the reference-compatible form: no associated data. Both sides must say bindMetadata: false.
function referenceForm({ key, bobKey }: Keys): void {
  const plain = signMessage(encryptPayload(createMessage({ recipient: bob.fingerprint, payload: secret }), key, { bindMetadata: false }), alice);
  const openedPlain = decryptPayload(plain, bobKey, { bindMetadata: false }) as typeof secret;
  check('bindMetadata: false round trip', openedPlain.text === secret.text);
  // It is exactly the reference's layout: base64(nonce ‖ ciphertext ‖ tag) of the JSON payload, no AD.
  const raw = new TextDecoder().decode(decrypt(key, Buffer.from((plain.payload as { _encrypted: string })._encrypted, 'base64')));
  console.log(`bindMetadata: false plaintext, as the Python reference writes it: ${raw}`);
  check('reference form is Python json.dumps of the payload', raw === '{"text": "the vault code is 4711", "amount": 250}');
  const readAsBound = tryDecrypt(() => decryptPayload(plain, bobKey));
  check('a bindMetadata: false payload does not open as a bound one', readAsBound.startsWith('CryptoError'));
  const liftedPlain = signMessage(createMessage({ recipient: bob.fingerprint, payload: plain.payload }), carol);
  const liftedPlainResult = tryDecrypt(() => decryptPayload(liftedPlain, bobKey, { bindMetadata: false }));
  console.log(`lifted ciphertext without metadata binding: ${liftedPlainResult} (the reference form cannot tell)`);
  check('without binding, the lift goes unnoticed (why binding is the default)', liftedPlainResult === 'decrypted');
}

async function main(): Promise<number> {
  const keys = await deriveKeys();
  const sent = await sendSealed(keys);
  catchAttacks(sent, keys);
  referenceForm(keys);
  console.log(`summary: ${failures === 0 ? 'OK' : `${failures} FAILED`}`);
  return failures === 0 ? 0 : 1;
}

// A failure rejects: Node prints it and exits with code 1.
process.exitCode = await main();
