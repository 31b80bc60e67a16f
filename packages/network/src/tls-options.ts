import type tls from 'node:tls';

/**
 * TLS settings, passed through to `tls.createServer` (listening) and `tls.connect` (dialing):
 * `key`, `cert`, `ca`, `requestCert` (server: ask for a client certificate; with
 * `rejectUnauthorized` this is mutual TLS), `rejectUnauthorized` (default `true` in Node),
 * `servername` (dial: SNI and the name checked against the server certificate), and any other
 * `node:tls` option. Shared by the TCP transport and the WebSocket server/dialer.
 */
export type NetTlsOptions = Omit<tls.TlsOptions, 'pskCallback'> & Pick<tls.ConnectionOptions, 'servername' | 'checkServerIdentity'>;
