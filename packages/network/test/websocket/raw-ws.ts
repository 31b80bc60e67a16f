// A raw WebSocket client on a plain socket, for tests that send what a real client never would.
import net from 'node:net';
import tls from 'node:tls';
import { AGENT_HEADER } from '../../src/websocket/index.js';

/** A raw socket after a completed (101) upgrade, and what the server answered. */
export interface RawUpgraded {
  socket: net.Socket;
  /** The 101 response head (status line and headers). */
  head: string;
  /** Resolves when the server closes (or resets) the connection. */
  closed: Promise<void>;
}

/** Opens a socket to 127.0.0.1:`port` and performs the upgrade by hand, announcing `agent`. */
export async function rawUpgrade(port: number, agent: string, options: { tls?: tls.ConnectionOptions } = {}): Promise<RawUpgraded> {
  const socket = options.tls ? tls.connect({ host: '127.0.0.1', port, ...options.tls }) : net.connect({ host: '127.0.0.1', port });
  socket.on('error', () => undefined);
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  await new Promise((r) => socket.once(options.tls ? 'secureConnect' : 'connect', r));
  socket.write(
    `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${AGENT_HEADER}: ${agent}\r\n\r\n`,
  );
  let got = '';
  const head = await new Promise<string>((resolve, reject) => {
    const onData = (d: Buffer): void => {
      got += d.toString('latin1');
      const end = got.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      resolve(got.slice(0, end));
    };
    socket.on('data', onData);
    void closed.then(() => reject(new Error(`closed during the upgrade: ${got}`)));
  });
  if (!head.startsWith('HTTP/1.1 101')) throw new Error(`upgrade refused: ${head}`);
  socket.resume();
  return { socket, head, closed };
}
