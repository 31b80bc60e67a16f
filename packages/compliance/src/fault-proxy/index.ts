/**
 * `@converge/compliance/fault-proxy`: a TCP forwarder for "the server went away" tests.
 *
 * ```ts
 * import { TcpProxy } from '@converge/compliance/fault-proxy';
 * const proxy = new TcpProxy('127.0.0.1', 5432);
 * await proxy.up(); // connect the store under test to 127.0.0.1:proxy.port
 * await proxy.down(); // every forwarded connection is cut, new ones are refused
 * await proxy.up(); // the same port again: the server is "back"
 * ```
 * @packageDocumentation
 */
import net from 'node:net';

/**
 * A TCP forwarder between a client under test and a real server, to take "the server" down
 * and bring it back without touching the real one (which other tests share).
 */
export class TcpProxy {
  readonly #target: { host: string; port: number };
  readonly #sockets = new Set<net.Socket>();
  #server: net.Server | undefined;
  /** The port the proxy listens on (0 until the first `up()`; kept across `down()`/`up()`). */
  port = 0;

  /** A proxy forwarding to `host:port` (the real server). */
  constructor(host: string, port: number) {
    this.#target = { host, port };
  }

  /** Starts listening on 127.0.0.1 (on a free port the first time, on the same port afterwards). */
  async up(): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.#target);
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        // A cut connection errors on both ends; the test reads the effect from the client under test.
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as net.AddressInfo).port;
    this.#server = server;
  }

  /** Stops listening and cuts every forwarded connection: the server looks gone. */
  async down(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const s of this.#sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** How many forwarded sockets (client and upstream sides) are open now. */
  get openSockets(): number {
    return this.#sockets.size;
  }
}
