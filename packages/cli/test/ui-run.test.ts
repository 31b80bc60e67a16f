// `converge run --ui`: the flag (bare or with a port), the "ui:" line, staying up after the
// work until a signal, and --ui-linger ending on its own.
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ConfigError, Identity, decodeMessage } from '@converge/core';
import { WS_AUTH_PROTOCOL, encodeAuthProof, readChallengeMessage } from '@converge/transport-websocket';
import { resolveConfig } from '../src/config.js';
import { unframeBytes, UI_STATE_TYPE, type UiState } from '../src/ui/protocol.js';
import { runCli } from './run-cli.js';

/** Connects to the ui as an observer and resolves once a state message says the work is done. */
function untilDone(pageUrl: string): Promise<UiState> {
  const url = `${pageUrl.replace('http:', 'ws:')}ws`;
  const ws = new WebSocket(url, [WS_AUTH_PROTOCOL]);
  return new Promise((resolve, reject) => {
    let first = true;
    ws.on('error', reject);
    ws.on('message', (d: Buffer) => {
      const data = new Uint8Array(d);
      if (first) {
        first = false;
        ws.send(encodeAuthProof(Identity.generate(), readChallengeMessage(data)!, url));
        return;
      }
      const m = decodeMessage(unframeBytes(data)!);
      const p = m.payload as unknown as UiState;
      if (p && typeof p === 'object' && p.type === UI_STATE_TYPE && p.phase === 'done') {
        ws.close();
        resolve(p);
      }
    });
  });
}

describe('--ui options', () => {
  it('takes an optional port: bare --ui is 7357, --ui 0 a free port', async () => {
    expect((await resolveConfig(['--ui'], {})).config.ui).toBe(7357);
    const bare = (await resolveConfig(['--ui', '--tasks', '5'], {})).config;
    expect([bare.ui, bare.tasks]).toEqual([7357, 5]);
    expect((await resolveConfig(['--ui', '0'], {})).config.ui).toBe(0);
    expect((await resolveConfig(['--ui=8080', '--ui-linger', '2.5'], {})).config).toMatchObject({ ui: 8080, uiLinger: 2.5 });
    expect((await resolveConfig([], { CONVERGE_UI: '0' })).config.ui).toBe(0);
    expect((await resolveConfig([], {})).config.ui).toBeUndefined();
  });

  it('refuses --ui-linger without --ui, a bad port, and --ui outside --role all', async () => {
    await expect(resolveConfig(['--ui-linger', '3'], {})).rejects.toThrow(/--ui-linger needs --ui/);
    await expect(resolveConfig(['--ui', '70000'], {})).rejects.toThrow(ConfigError);
    await expect(resolveConfig(['--ui', '0', '--role', 'worker', '--store', 'file:/tmp/x', '--transport', 'tcp'], {})).rejects.toThrow(
      /--ui is only for --role all/,
    );
  });
});

describe('converge run --ui', () => {
  it('prints the ui line once and, with --ui-linger, ends on its own after the work (exit 0)', async () => {
    const r = await runCli(['run', '--ui', '0', '--ui-linger', '0.2', '--tasks', '30', '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr.match(/^ui: http:\/\/127\.0\.0\.1:\d+\/$/gm)).toHaveLength(1);
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toMatchObject({ tasks: 30, completed: 30, interrupted: false });
  });

  it('a --ui port in use is a clear error (exit 1), not a stack trace', async () => {
    const { createServer } = await import('node:net');
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as { port: number }).port;
    try {
      const r = await runCli(['run', '--ui', String(port), '--tasks', '5']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`converge: --ui cannot listen on 127.0.0.1:${port}`);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    } finally {
      taken.close();
    }
  });

  it('with --duration the run ends through --ui-linger too', async () => {
    const r = await runCli(['run', '--ui', '0', '--ui-linger', '0', '--duration', '1', '--json']);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(s.completed).toBeGreaterThan(0);
  });

  it('stays up after the work, serving the page, until SIGINT (then exit 0 with the summary)', async () => {
    let url = '';
    let served = false;
    const r = await runCli(['run', '--ui', '0', '--tasks', '20', '--json'], {
      timeoutMs: 60_000,
      onStderr: (text, child) => {
        url ||= /^ui: (\S+)$/m.exec(text)?.[1] ?? '';
        if (!url || served) return;
        served = true;
        void (async () => {
          const done = await untilDone(url);
          expect(done.tasks.completed).toBe(20);
          // The work is done; the run is still up and serving the page.
          await new Promise((res) => setTimeout(res, 300));
          const page = await fetch(url);
          expect(page.status).toBe(200);
          expect(child.exitCode).toBeNull();
          child.kill('SIGINT');
        })();
      },
    });
    expect(served).toBe(true);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toMatchObject({ completed: 20, interrupted: false });
  });
});
