// End to end: `converge run --scenario market --ui 0` serves the live page; headless Chromium (playwright-core)
// opens it, the page authenticates as an observer, verifies what it is sent and counts the
// run to completion; a forged message injected by the test shows up as rejected.
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { afterAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Identity, createMessage, encodeMessage, fingerprintOf, hexToBytes, signMessage } from '@converge/core';
import { WS_AUTH_PROTOCOL, encodeAuthProof, readChallengeMessage } from '@converge/transport-websocket';
import { describeInChromium, launchChromium, type ChromiumSession } from '../../../test/support/chromium.js';
import { runCli, type CliResult } from './run-cli.js';
import { frameBytes, UI_STATE_TYPE } from '../src/ui/protocol.js';

// The screenshot docs/getting-started.md embeds; rewritten only when asked, so a test run leaves the tree clean.
const SCREENSHOT =
  process.env.CONVERGE_UPDATE_SCREENSHOT === '1'
    ? fileURLToPath(new URL('../../../docs/images/ui.png', import.meta.url))
    : join(tmpdir(), `converge-ui-${process.pid}.png`);
const AGENTS = 4;
const TASKS = 2000;

/** Connects to the page's WebSocket as an authenticated client (the transport's own proof) and sends one frame. */
async function inject(wsUrl: string, frame: Uint8Array): Promise<void> {
  const ws = new WebSocket(wsUrl, [WS_AUTH_PROTOCOL], { headers: { origin: new URL(wsUrl.replace('ws:', 'http:')).origin } });
  await new Promise<void>((resolve, reject) => {
    const attacker = Identity.generate();
    ws.once('error', reject);
    ws.once('message', (data: Buffer) => {
      const challenge = readChallengeMessage(new Uint8Array(data));
      if (!challenge) return reject(new Error('no challenge'));
      ws.send(encodeAuthProof(attacker, challenge, wsUrl));
      // Authenticated clients' frames are passed on to the pages; give the proof a moment to be checked.
      setTimeout(() => {
        ws.send(frame);
        setTimeout(resolve, 200);
      }, 200);
    });
  });
  ws.close();
}

describeInChromium('converge run --ui in Chromium', () => {
  let child: ChildProcess | undefined;
  let session: ChromiumSession | undefined;
  afterAll(async () => {
    await session?.close();
    child?.kill('SIGKILL');
  });

  it('shows the run live, verified in the page, and counts a forged message as rejected', { timeout: 240_000 }, async () => {
    let url = '';
    let ready!: () => void;
    const served = new Promise<void>((r) => (ready = r));
    const run: Promise<CliResult> = runCli(['run', '--scenario', 'market', '--ui', '0', '--tasks', String(TASKS), '--agents', String(AGENTS)], {
      timeoutMs: 200_000,
      onStderr: (text, c) => {
        child = c;
        const m = /^ui: (http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(text);
        if (m && !url) {
          url = m[1]!;
          ready();
        }
      },
    });
    await Promise.race([served, run.then((r) => Promise.reject(new Error(`converge exited early (${r.code}):\n${r.stderr}`)))]);

    // Fails loudly (never skips) when Chromium is there but cannot start.
    session = await launchChromium();
    const { page, errors } = session;
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(url);
    const num = async (id: string): Promise<number> => Number(await page.getByTestId(id).textContent());

    await page.waitForFunction(
      () => {
        const t = (id: string) => Number(document.querySelector(`[data-testid="${id}"]`)?.textContent ?? 'NaN');
        return t('tasks-total') > 0 && t('tasks-completed') === t('tasks-total');
      },
      undefined,
      { timeout: 180_000, polling: 250 },
    );
    expect(await num('tasks-total')).toBe(TASKS);
    expect(await num('tasks-completed')).toBe(TASKS);
    expect(await num('agents-count')).toBe(AGENTS + 1);
    // Agents' own messages (bids, done notes), each verified in the page under its sender's key.
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="messages-verified"]')?.textContent) > 100, undefined, { timeout: 60_000 });
    expect(await num('messages-rejected')).toBe(0);

    // A forged relay state (claims every task failed), signed with a key that is not the relay's.
    const relayKey = hexToBytes((await page.locator('meta[name="converge-relay-key"]').getAttribute('content'))!);
    const attacker = Identity.generate();
    const body = createMessage({ payload: { type: UI_STATE_TYPE, seq: 1e9, now: Date.now() + 1e6, agents: [] } });
    const sig = signMessage(body, attacker).signature;
    const forged = createMessage({ id: body.id, sender: fingerprintOf(relayKey), payload: body.payload, timestamp: body.timestamp, signature: sig });
    const before = await num('messages-rejected');
    await inject(`${url.replace('http:', 'ws:')}ws`, frameBytes(encodeMessage(forged)));
    await page.waitForFunction((n) => Number(document.querySelector('[data-testid="messages-rejected"]')?.textContent) > n, before, { timeout: 20_000 });
    expect(await num('tasks-completed')).toBe(TASKS); // the forged state changed nothing
    expect(await page.locator('#rejected li').first().textContent()).toContain('bad_signature');

    mkdirSync(join(SCREENSHOT, '..'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(errors).toEqual([]);

    // The run stays up after the work until interrupted; SIGINT then ends it normally.
    expect(child!.exitCode).toBeNull();
    child!.kill('SIGINT');
    const result = await run;
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/completed\s+2,?000/);
  });
});
