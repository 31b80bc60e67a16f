/// <reference lib="dom" />
/**
 * The `--ui` page: generates its own Ed25519 identity, connects to the run's relay over
 * WebSocket as an authenticated observer, verifies every message (core's `verifyMessage`) and
 * draws the network. Frames wait in a bounded queue and are handled in slices of a few
 * milliseconds, so the page stays responsive; what does not fit is counted as skipped.
 */
import { Identity, hexToBytes } from '@converge/core';
import { UI_WS_PATH, readUiChallenge, uiAuthProof } from '../protocol.js';
import { PageModel, shortId } from './model.js';
import { render } from './view.js';

const MAX_QUEUED_FRAMES = 50_000;
const SLICE_MS = 12;

const relayKey = hexToBytes(document.querySelector('meta[name="converge-relay-key"]')!.getAttribute('content')!);
const identity = Identity.generate();
const model = new PageModel(relayKey);
let queue: Uint8Array[] = [];
let head = 0;
let dirty = true;

document.getElementById('me')!.textContent = `observer ${shortId(identity.fingerprint)}`;

function status(text: string, ok = false): void {
  const s = document.getElementById('status')!;
  s.textContent = text;
  s.className = ok ? 'ok' : '';
}

function connect(attempt: number): void {
  const url = `ws://${location.host}${UI_WS_PATH}`;
  const ws = new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  let authed = false;
  ws.onmessage = (ev: MessageEvent<ArrayBuffer>) => {
    const data = new Uint8Array(ev.data);
    if (!authed) {
      const challenge = readUiChallenge(data);
      if (!challenge) return ws.close();
      ws.send(uiAuthProof(identity, challenge, url));
      authed = true;
      attempt = 0;
      status('connected · verifying', true);
      return;
    }
    if (queue.length - head >= MAX_QUEUED_FRAMES) model.skipped++;
    else queue.push(data);
  };
  ws.onclose = (ev) => {
    status(`disconnected (${ev.code}${ev.reason ? ` ${ev.reason}` : ''}); retrying`);
    setTimeout(() => connect(attempt + 1), Math.min(5_000, 250 * 2 ** attempt));
  };
}

function pump(): void {
  const start = performance.now();
  while (head < queue.length && performance.now() - start < SLICE_MS) {
    model.handleFrame(queue[head++]!);
    dirty = true;
  }
  if (head > 1_024 && head * 2 > queue.length) {
    queue = queue.slice(head);
    head = 0;
  }
  model.expirePending();
  setTimeout(pump, head < queue.length ? 0 : 20);
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

connect(0);
pump();
paint();
