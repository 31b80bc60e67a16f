import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TcpProxy } from '@converge/compliance/fault-proxy';

/** Connects to 127.0.0.1:port, sends `text`, resolves with the first reply (or the error). */
function echoOnce(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = net.connect({ host: '127.0.0.1', port }, () => c.write(text));
    c.once('data', (d) => {
      resolve(String(d));
      c.destroy();
    });
    c.once('error', reject);
  });
}

describe('TcpProxy', () => {
  let echo: net.Server;
  let echoPort = 0;
  beforeAll(async () => {
    echo = net.createServer((s) => s.pipe(s));
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
    echoPort = (echo.address() as net.AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => echo.close(() => r())));

  it('forwards both ways, cuts open connections and refuses new ones when down, and comes back on the same port', async () => {
    const proxy = new TcpProxy('127.0.0.1', echoPort);
    await proxy.up();
    try {
      const port = proxy.port;
      expect(port).toBeGreaterThan(0);
      expect(await echoOnce(port, 'ping')).toBe('ping');

      const held = net.connect({ host: '127.0.0.1', port });
      held.on('error', () => undefined);
      const closed = new Promise<void>((r) => held.once('close', () => r()));
      await new Promise<void>((r) => held.once('connect', () => r()));
      await proxy.down();
      await closed; // the open connection was cut
      expect(proxy.openSockets).toBe(0);
      await expect(echoOnce(port, 'x')).rejects.toMatchObject({ code: 'ECONNREFUSED' });

      await proxy.up();
      expect(proxy.port).toBe(port);
      expect(await echoOnce(port, 'again')).toBe('again');
    } finally {
      await proxy.down();
    }
  });
});
