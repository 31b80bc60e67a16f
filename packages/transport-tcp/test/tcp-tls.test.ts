// TLS and mutual TLS with a throwaway CA made by the openssl CLI at test time.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Identity, TransportError, createMessage, signMessage } from '@converge/core';
import { TcpTransport, type TcpTlsOptions } from '../src/index.js';
import { hasOpenssl, makePki, until, type TestPki } from '../../../test/support/transport-helpers.js';

const alice = Identity.generate();
const bob = Identity.generate();
const open: TcpTransport[] = [];
let pki: TestPki;
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.stop()));
});

function tcp(options: ConstructorParameters<typeof TcpTransport>[0]): TcpTransport {
  const t = new TcpTransport({ reconnect: { maxAttempts: 2, initialDelayMs: 1, maxDelayMs: 2 }, ...options });
  open.push(t);
  return t;
}
const msg = (payload: string) => signMessage(createMessage({ recipient: bob.fingerprint, payload }), alice);

/** A started client (no listener) with TLS options `tls`, routing bob to the server `b`. */
async function tlsClient(b: TcpTransport, tls: TcpTlsOptions): Promise<TcpTransport> {
  const client = tcp({ listen: false, tls });
  await client.start();
  client.addPeer(bob.fingerprint, b.address);
  return client;
}

describe.runIf(hasOpenssl())('TcpTransport over TLS', () => {
  beforeAll(() => {
    pki = makePki();
  });

  it('carries messages over TLS with the server certificate checked against the CA', async () => {
    const b = tcp({ tls: { key: pki.serverKey, cert: pki.serverCert } });
    await b.start();
    const a = await tlsClient(b, { ca: pki.ca });
    await a.send(msg('secret'));
    expect((await b.receive({ timeoutMs: 10_000 }))?.payload).toBe('secret');
  });

  it('refuses a server whose certificate the client does not trust (TransportError ERR_CONNECT)', async () => {
    const b = tcp({ tls: { key: pki.serverKey, cert: pki.serverCert } });
    await b.start();
    const a = await tlsClient(b, { ca: pki.otherCa });
    const err = await a.send(msg('x')).catch((e) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect(err.code).toBe('ERR_CONNECT');
    expect(b.stats.framesReceived).toBe(0);
  });

  it('mutual TLS: accepts a client certificate from the CA, refuses none and a foreign one', async () => {
    const b = tcp({ tls: { key: pki.serverKey, cert: pki.serverCert, ca: pki.ca, requestCert: true, rejectUnauthorized: true } });
    await b.start();
    const good = await tlsClient(b, { ca: pki.ca, key: pki.clientKey, cert: pki.clientCert });
    await good.send(msg('with cert'));
    expect((await b.receive({ timeoutMs: 10_000 }))?.payload).toBe('with cert');

    for (const tlsOptions of [{ ca: pki.ca }, { ca: pki.ca, key: pki.otherClientKey, cert: pki.otherClientCert }]) {
      const bad = await tlsClient(b, tlsOptions);
      // TLS 1.3: the client may finish its handshake before the server refuses its certificate,
      // so the frame can be "written" and then lost; the server must never deliver it.
      await bad.send(msg('intruder')).catch((e) => expect(e).toBeInstanceOf(TransportError));
      await until(() => bad.openConnections === 0);
    }
    expect(await b.receive({ timeoutMs: 50 })).toBeNull();
    expect(b.stats.framesReceived).toBe(1);
  });
});
