// The page side of core-browser.test.ts, bundled by esbuild with the `browser` condition (so
// core runs on platform.browser.ts: noble Ed25519, WebCrypto randomness, no Buffer) and run in
// Chromium. It only computes; the Node test compares every result with the vectors and with
// what core computes in Node.
import { bytesToBase64, bytesToHex, createMessage, DecodeError, decodeMessage, decodeValue, DEFAULT_ED25519_BACKEND } from '@converge/core';
import { ed25519AsyncBackend, encodeMessage, encodeValue, hexToBytes, Identity, signingBytes, signMessage, topicToString, uuid4 } from '@converge/core';
import { verifyMessage, verifyMessageAsync } from '@converge/core';
import type { Message, Topic } from '@converge/core';
import { fromTyped } from '../vectors-typed.js';
import { describeMessage } from './describe-message.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Vectors = any;

function toTopic(t: { namespace: string; attributes: unknown; version: string }): Topic {
  return { namespace: t.namespace, attributes: fromTyped(t.attributes), version: t.version };
}

function messageFromInput(input: Record<string, any>): Message {
  return createMessage({
    id: input.id,
    sender: input.sender,
    recipient: input.recipient,
    topics: input.topics.map(toTopic),
    payload: fromTyped(input.payload),
    taskId: input.task_id,
    timestamp: fromTyped(input.timestamp),
  });
}

function errorName(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof DecodeError ? 'DecodeError' : (err as Error).name;
  }
}

const page = {
  /** Which platform module the bundle got, and what the page has of Node's globals. */
  platform() {
    let nodeBackend = 'accepted';
    try {
      Identity.generate({ backend: 'node' });
    } catch (err) {
      nodeBackend = (err as Error).name;
    }
    const g = globalThis as any;
    return { backend: DEFAULT_ED25519_BACKEND, nodeBackend, buffer: typeof g.Buffer, process: typeof g.process, userAgent: String(g.navigator?.userAgent) };
  },

  identities(v: Vectors) {
    return v.identities.map((x: any) => {
      const id = Identity.fromSecretKey(hexToBytes(x.seed));
      return {
        name: x.name,
        backend: id.backend,
        publicKey: bytesToHex(id.publicKey),
        fingerprint: id.fingerprint,
        publicKeyB64: bytesToBase64(id.publicKey),
        from64: Identity.fromSecretKey(hexToBytes(x.secret_key_64)).fingerprint,
        fromPrivate: Identity.fromSecretKey(hexToBytes(x.private_key)).fingerprint,
      };
    });
  },

  signatures(v: Vectors) {
    const seeds = new Map<string, string>(v.identities.map((x: any) => [x.name, x.seed]));
    return v.ed25519_signatures.map((x: any) => {
      const id = Identity.fromSecretKey(hexToBytes(seeds.get(x.signer)!));
      const data = hexToBytes(x.data);
      const tampered = data.slice();
      if (tampered.length > 0) tampered[0]! ^= 1;
      return {
        name: x.name,
        signature: bytesToHex(id.sign(data)),
        verify: id.verify(hexToBytes(x.signature), data),
        verifyTampered: tampered.length > 0 ? id.verify(hexToBytes(x.signature), tampered) : false,
      };
    });
  },

  topics(v: Vectors) {
    return v.topics.map((x: any) => {
      const dict = toTopic(x.dict);
      return {
        name: x.name,
        string: topicToString(toTopic(x.input)),
        dictMsgpack: bytesToHex(encodeValue({ namespace: dict.namespace, attributes: dict.attributes, version: dict.version })),
      };
    });
  },

  messages(v: Vectors) {
    const ids = new Map<string, Identity>(v.identities.map((x: any) => [x.name, Identity.fromSecretKey(hexToBytes(x.seed))]));
    return v.messages.map((x: any) => {
      const msg = messageFromInput(x.input);
      const signed = x.signer ? signMessage(msg, ids.get(x.signer)!) : msg;
      const decoded = decodeMessage(hexToBytes(x.encoded));
      return {
        name: x.name,
        signingBytes: bytesToHex(signingBytes(msg)),
        sender: signed.sender,
        signature: bytesToHex(signed.signature),
        encoded: bytesToHex(encodeMessage(signed)),
        decoded: describeMessage(decoded),
        reencoded: bytesToHex(encodeMessage(decoded)),
        resigning: bytesToHex(signingBytes(decoded)),
        verify: verifyMessage(decoded, ids.get(x.signer ?? x.verify_with)!.publicKey),
      };
    });
  },

  negatives(v: Vectors) {
    return v.verification_negatives.map((x: any) => {
      let msg: Message;
      try {
        msg = decodeMessage(hexToBytes(x.encoded));
      } catch (err) {
        return { name: x.name, decodeError: err instanceof DecodeError ? 'DecodeError' : String(err) };
      }
      return { name: x.name, verify: verifyMessage(msg, hexToBytes(x.public_key)), signingBytes: bytesToHex(signingBytes(msg)) };
    });
  },

  decodes(v: Vectors) {
    const ids = new Map<string, Identity>(v.identities.map((x: any) => [x.name, Identity.fromSecretKey(hexToBytes(x.seed))]));
    return v.decode.map((x: any) => {
      const bytes = hexToBytes(x.bytes);
      const err = errorName(() => decodeMessage(bytes));
      if (err) return { name: x.name, error: err };
      const msg = decodeMessage(bytes);
      return {
        name: x.name,
        decoded: describeMessage(msg),
        verify: x.verify_with ? verifyMessage(msg, ids.get(x.verify_with)!.publicKey) : undefined,
      };
    });
  },

  /** Signs `dataHex` with `seedHex` and returns the public key and signature. */
  sign(seedHex: string, dataHex: string) {
    const id = Identity.fromSecretKey(hexToBytes(seedHex));
    return { publicKey: bytesToHex(id.publicKey), signature: bytesToHex(id.sign(hexToBytes(dataHex))) };
  },

  /** A new identity from WebCrypto randomness, and a message it signed. */
  generateAndSign(payloadHex: string) {
    const id = Identity.generate();
    const m = signMessage(createMessage({ payload: decodeValue(hexToBytes(payloadHex)) as never, taskId: uuid4() }), id);
    return { seed: bytesToHex(id.secretKey!), publicKey: bytesToHex(id.publicKey), fingerprint: id.fingerprint, encoded: bytesToHex(encodeMessage(m)) };
  },

  /** A message with fixed fields signed by `seedHex` (deterministic: Node must produce the same bytes). */
  signFixed(seedHex: string, fields: { id: string; timestamp: number; recipient: string | null }, payloadHex: string) {
    const id = Identity.fromSecretKey(hexToBytes(seedHex));
    const m = signMessage(createMessage({ ...fields, payload: decodeValue(hexToBytes(payloadHex)) as never }), id);
    return bytesToHex(encodeMessage(m));
  },

  /** Decodes a message from Node and checks it against a key; `tamper` flips one payload byte first. */
  verifyEncoded(encodedHex: string, publicKeyHex: string) {
    const msg = decodeMessage(hexToBytes(encodedHex));
    return { verify: verifyMessage(msg, hexToBytes(publicKeyHex)), reencoded: bytesToHex(encodeMessage(msg)), payload: bytesToHex(encodeValue(msg.payload)) };
  },

  /** decode -> encode of each value (hex), or the error's name. */
  roundTrip(hexes: string[]) {
    return hexes.map((h) => {
      try {
        return bytesToHex(encodeValue(decodeValue(hexToBytes(h))));
      } catch (err) {
        return `error:${err instanceof DecodeError ? 'DecodeError' : (err as Error).name}`;
      }
    });
  },

  /** verifyMessageAsync (WebCrypto where Chromium has Ed25519) on the vectors and on a batch of fresh and tampered messages. */
  async asyncVerify(v: Vectors) {
    const ids = new Map<string, Identity>(v.identities.map((x: any) => [x.name, Identity.fromSecretKey(hexToBytes(x.seed))]));
    const messages = await Promise.all(
      v.messages.map((x: any) => verifyMessageAsync(decodeMessage(hexToBytes(x.encoded)), ids.get(x.signer ?? x.verify_with)!.publicKey)),
    );
    const negatives: (boolean | string)[] = [];
    for (const x of v.verification_negatives) {
      let m: Message;
      try {
        m = decodeMessage(hexToBytes(x.encoded));
      } catch {
        negatives.push('DecodeError');
        continue;
      }
      negatives.push(await verifyMessageAsync(m, hexToBytes(x.public_key)));
    }
    const me = Identity.generate();
    let agree = 0;
    let trueCount = 0;
    for (let i = 0; i < 100; i++) {
      const m = signMessage(createMessage({ payload: { i, s: 'x'.repeat(i) } }), me);
      const bytes = encodeMessage(m);
      if (i % 2) bytes[bytes.length - 70]! ^= 1; // inside the signature: a forgery
      const d = decodeMessage(bytes);
      const [a, s] = [await verifyMessageAsync(d, me.publicKey), verifyMessage(d, me.publicKey)];
      if (a === s) agree++;
      if (a) trueCount++;
    }
    const malformed = [await verifyMessageAsync(decodeMessage(hexToBytes(v.messages[0].encoded)), new Uint8Array(31))];
    return { backend: await ed25519AsyncBackend(), messages, negatives, agree, trueCount, malformed };
  },

  uuids(n: number) {
    return Array.from({ length: n }, () => uuid4());
  },
};

/** What the page exposes to the test. */
export type CorePage = typeof page;

(globalThis as any).corePage = page;
(globalThis as any).__pageReady = true;
