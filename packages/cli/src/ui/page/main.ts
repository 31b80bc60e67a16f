/// <reference lib="dom" />
/**
 * The `--ui` page: generates its own Ed25519 identity, connects to the run's relay with the
 * WebSocket client transport (`@converge/transport-websocket/client`, the browser's native
 * WebSocket) as an authenticated observer, verifies every message (core's `verifyMessage`) and
 * draws the network. Messages are taken from the transport's bounded receive queue in batches,
 * their signatures checked together with `verifyMessageAsync` (WebCrypto Ed25519 where the
 * browser has it), then applied in order; what the transport had to drop is counted.
 */
import { Identity, hexToBytes, verifyMessageAsync, type Message } from '@converge/core';
import { WebSocketClientTransport } from '@converge/transport-websocket/client';
import { UI_WS_PATH } from '../protocol.js';
import { PageModel, shortId } from './model.js';
import { render } from './view.js';

const MAX_BATCH = 512;

const relayKey = hexToBytes(document.querySelector('meta[name="converge-relay-key"]')!.getAttribute('content')!);
const identity = Identity.generate();
const model = new PageModel(relayKey);
let dirty = true;

document.getElementById('me')!.textContent = `observer ${shortId(identity.fingerprint)}`;

function status(text: string, ok = false): void {
  const s = document.getElementById('status')!;
  s.textContent = text;
  s.className = ok ? 'ok' : '';
}

/** Frames the transport refused (malformed, short, oversize) and messages it dropped (queue full). */
function refusedBy(t: WebSocketClientTransport): { refused: number; dropped: number } {
  const s = t.stats;
  return { refused: s.rejectedMalformed + s.rejectedShort + s.rejectedOversize, dropped: s.droppedReceiveQueueFull };
}

async function session(): Promise<void> {
  const t = new WebSocketClientTransport({ url: `ws://${location.host}${UI_WS_PATH}`, identity, maxReceiveQueue: 50_000 });
  await t.start();
  status('connected · verifying', true);
  let seen = { refused: 0, dropped: 0 };
  try {
    while (t.connected) {
      const first = await t.receive({ timeoutMs: 500 });
      const batch: Message[] = [];
      for (let m = first; m !== null && batch.length < MAX_BATCH; m = batch.length < MAX_BATCH ? t.tryReceive() : null) batch.push(m);
      // Verified together (keys known now); a sender first named by a state in this batch is checked when applied.
      const verified = await Promise.all(
        batch.map((m) => {
          const key = model.keyFor(m.sender);
          return key ? verifyMessageAsync(m, key) : Promise.resolve(undefined);
        }),
      );
      batch.forEach((m, i) => model.handleMessage(m, verified[i]));
      if (batch.length > 0) dirty = true;
      const now = refusedBy(t);
      model.countRefusedFrames(now.refused - seen.refused);
      model.skipped += now.dropped - seen.dropped;
      seen = now;
      model.expirePending();
      // Yield to rendering between slices.
      await new Promise((r) => setTimeout(r, 0));
    }
  } finally {
    await t.stop();
  }
}

async function run(): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await session();
      attempt = 0;
      status('disconnected; reconnecting');
    } catch (err) {
      status(`cannot connect (${(err as Error).message}); retrying`);
    }
    await new Promise((r) => setTimeout(r, Math.min(5_000, 250 * 2 ** attempt)));
  }
}

function paint(): void {
  if (dirty) {
    dirty = false;
    render(model);
    const s = model.state;
    if (s && s.phase === 'done') status(`done · ${s.tasks.completed}/${s.total} tasks · press Ctrl-C in the terminal to end the run`, true);
  }
  setTimeout(() => requestAnimationFrame(paint), 200);
}

void run();
paint();
