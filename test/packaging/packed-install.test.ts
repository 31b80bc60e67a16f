// The published dependency graph installs and works outside the workspace: core, network and
// runtime are packed (`pnpm pack`, which turns `workspace:` ranges into versions) into a
// temporary folder outside the repository, installed there with npm with only their declared
// dependencies (sibling @converge packages they declare are packed too, as they are not on the
// registry), then imported with plain Node, as ESM and with CommonJS `require()`: a message is
// signed, encoded, decoded, verified and sent over a LocalHub, then over the TCP plugin. Prints
// the install size of core + network + runtime (the architecture goal: at most 4 MB; the
// transport plugins, packed beside them, are not counted). Skips with a printed reason when the npm registry is
// unreachable or nothing is built.
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isBuilt, registryReachable, repoRoot } from './pack';

const PACKED = ['core', 'network', 'runtime', 'transport-tcp', 'transport-websocket'];
/** Packed for the plugin checks, left out of the size figure. */
const PLUGINS = ['transport-tcp', 'transport-websocket'];
const PNPM = ['-y', 'pnpm@10.34.8'];

/** Bytes and package count under a node_modules folder (files only; links are not followed), without `skip` (folders under node_modules). */
function installSize(dir: string, skip: string[] = []): { bytes: number; packages: number } {
  let bytes = 0;
  let packages = 0;
  const skipped = new Set(skip.map((s) => join(dir, 'node_modules', s)));
  const walk = (d: string): void => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (skipped.has(p)) continue;
      const s = lstatSync(p);
      if (s.isDirectory()) walk(p);
      else if (s.isFile()) {
        bytes += s.size;
        if (e === 'package.json' && /node_modules\/(@[^/]+\/)?[^/@]+$/.test(d)) packages++;
      }
    }
  };
  walk(join(dir, 'node_modules'));
  return { bytes, packages };
}

const skipReason = !isBuilt() ? 'run `pnpm build` first (the tarballs hold dist/)' : await registryReachable('/@msgpack%2fmsgpack');
if (skipReason) console.warn(`packed-install test skipped: ${skipReason}`);

const ESM_CHECK = `
import { Identity, createMessage, signMessage, encodeMessage, decodeMessage, verifyMessage, Float64, encodeValue, isTransport } from '@converge/core';
import { LocalHub, LocalTransport } from '@converge/network';
import { AgentRuntime } from '@converge/runtime';
import { tcp } from '@converge/transport-tcp';
import { webSocketClient } from '@converge/transport-websocket/client';
const alice = Identity.generate();
const signed = signMessage(createMessage({ recipient: 'bob', payload: { n: 1, f: new Float64(2) } }), alice);
const back = decodeMessage(encodeMessage(signed));
const hub = new LocalHub();
const a = new LocalTransport('alice', { hub });
const b = new LocalTransport('bob', { hub });
await a.start(); await b.start();
await a.send(back);
const got = await b.receive({ timeoutMs: 5000 });
await a.stop(); await b.stop();
const bob = Identity.generate();
const ta = tcp({ host: '127.0.0.1', port: 0 })({ identity: alice });
const tb = tcp({ host: '127.0.0.1', port: 0 })({ identity: bob });
await ta.start(); await tb.start();
ta.addPeer(bob.fingerprint, tb.address);
await ta.send(signMessage(createMessage({ recipient: bob.fingerprint, payload: 'over tcp' }), alice));
const overTcp = await tb.receive({ timeoutMs: 5000 });
await ta.stop(); await tb.stop();
console.log(JSON.stringify({
  tcp: overTcp?.payload === 'over tcp' && verifyMessage(overTcp, alice) && isTransport(ta),
  wsClient: typeof webSocketClient,
  verified: verifyMessage(back, alice.publicKey) && got !== null && verifyMessage(got, alice),
  sameBytes: Buffer.from(encodeMessage(back)).equals(Buffer.from(encodeMessage(signed))),
  float64: Buffer.from(encodeValue(new Float64(2))).toString('hex'),
  runtime: typeof AgentRuntime,
}));
`;

const CJS_CHECK = `
const { Identity, createMessage, signMessage, verifyMessage } = require('@converge/core');
const { LocalHub } = require('@converge/network');
const id = Identity.generate();
console.log(JSON.stringify({ verified: verifyMessage(signMessage(createMessage({ payload: 'x' }), id), id), hub: typeof LocalHub }));
`;

describe.skipIf(skipReason !== undefined)('packed core, network and runtime install from their tarballs', () => {
  let app = '';

  beforeAll(() => {
    app = mkdtempSync(join(tmpdir(), 'converge-packed-'));
    const deps: Record<string, string> = {};
    for (const name of PACKED) {
      const out = execFileSync('npx', [...PNPM, 'pack', '--pack-destination', app], {
        cwd: join(repoRoot, 'packages', name),
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      const tarball = out.trim().split('\n').pop()!.split('/').pop()!;
      deps[`@converge/${name}`] = `file:./${tarball}`;
    }
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'packed-app', private: true, type: 'module', dependencies: deps }));
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], { cwd: app, stdio: ['ignore', 'ignore', 'inherit'] });
    writeFileSync(join(app, 'esm.mjs'), ESM_CHECK);
    writeFileSync(join(app, 'cjs.cjs'), CJS_CHECK);
  }, 300_000);

  afterAll(() => {
    if (app) rmSync(app, { recursive: true, force: true });
  });

  it('installs with the declared dependencies only (runtime needs neither coordination nor policy)', () => {
    expect(existsSync(join(app, 'node_modules/@converge/runtime/dist/index.js'))).toBe(true);
    expect(existsSync(join(app, 'node_modules/@converge/coordination'))).toBe(false);
    expect(existsSync(join(app, 'node_modules/@converge/policy'))).toBe(false);
    // Logger and Metrics are core's contracts: no logging or metrics implementation comes along.
    for (const impl of ['@converge/observability', 'pino', 'prom-client']) expect(existsSync(join(app, 'node_modules', impl)), impl).toBe(false);
    // ws is an optional peer of the WebSocket plugin: not installed unless asked for.
    expect(existsSync(join(app, 'node_modules/ws'))).toBe(false);
    const { bytes, packages } = installSize(
      app,
      PLUGINS.map((p) => `@converge/${p}`),
    );
    console.log(
      `[packed-install] npm i @converge/core @converge/network @converge/runtime: ${packages} packages, ${(bytes / 2 ** 20).toFixed(1)} MB (goal <= 4 MB)`,
    );
    expect(bytes).toBeLessThanOrEqual(4 * 2 ** 20);
  });

  it('plain Node imports them as ESM: sign, encode, decode, verify, send over a LocalHub', () => {
    const out = JSON.parse(execFileSync('node', ['esm.mjs'], { cwd: app, encoding: 'utf8' })) as Record<string, unknown>;
    expect(out).toEqual({ tcp: true, wsClient: 'function', verified: true, sameBytes: true, float64: 'cb4000000000000000', runtime: 'function' });
  });

  it('CommonJS callers require() them (Node >= 20.19)', () => {
    const out = JSON.parse(execFileSync('node', ['cjs.cjs'], { cwd: app, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as Record<string, unknown>;
    expect(out).toEqual({ verified: true, hub: 'function' });
  });
});
