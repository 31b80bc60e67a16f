// Definition pins across toolsets, trust on first use off, and the size caps (result, list,
// definition, message), against the official SDK's server over Streamable HTTP.
import { getEventListeners } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ToolRegistry, ValidationError } from '@converge/core';
import {
  McpToolset,
  ToolDefinitionChangedError,
  ToolDefinitionInvalidError,
  ToolListTooLargeError,
  ToolNotPinnedError,
  ToolPins,
  ToolResultTooLargeError,
  canonicalJson,
  definitionHash,
  type McpToolsetOptions,
} from '../src/index.js';
import { startHttpFixture, type HttpFixture } from './fixtures/http-server.js';

let fixture: HttpFixture;
const open: McpToolset[] = [];
const signal = new AbortController().signal;

beforeEach(async () => {
  fixture = await startHttpFixture();
});
afterEach(async () => {
  for (const t of open.splice(0)) await t.close();
  await fixture.close();
});

async function connect(options: Partial<McpToolsetOptions> = {}): Promise<{ toolset: McpToolset; registry: ToolRegistry }> {
  const toolset = new McpToolset({ name: 'web', transport: { type: 'http', url: fixture.url }, ...options });
  open.push(toolset);
  await toolset.connect();
  const registry = new ToolRegistry();
  toolset.register(registry);
  return { toolset, registry };
}

describe('definition pins', () => {
  it('the hash is sha-256 of the canonical definition: key order and _meta do not matter, a description does', () => {
    const a = { name: 't', description: 'd', inputSchema: { type: 'object', properties: { x: { type: 'number' } } } };
    const b = { inputSchema: { properties: { x: { type: 'number' } }, type: 'object' }, description: 'd', name: 't', _meta: { seen: 1 } };
    expect(canonicalJson(a)).toBe('{"description":"d","inputSchema":{"properties":{"x":{"type":"number"}},"type":"object"},"name":"t"}');
    expect(definitionHash(b)).toBe(definitionHash(a));
    expect(definitionHash({ ...a, description: 'e' })).not.toBe(definitionHash(a));
  });

  it('pins saved from one toolset are honoured by the next; a mismatching saved pin refuses the tool', async () => {
    const first = await connect();
    const saved = first.toolset.pins.toJSON();
    expect(Object.keys(saved)).toContain('web/add');
    const again = await connect({ pins: new ToolPins(saved) });
    expect(again.toolset.pending()).toEqual([]);
    expect(await again.registry.require('web/add').run({ a: 1, b: 1 }, { signal })).toMatchObject({ structuredContent: { sum: 2 } });

    const tampered = new ToolPins({ ...saved, 'web/add': '0'.repeat(64) });
    const refused = await connect({ pins: tampered });
    expect(refused.toolset.pending().map((p) => [p.name, p.state])).toEqual([['web/add', 'changed']]);
    expect(refused.toolset.stats().definitionsRefused.changed).toBe(1);
    await expect(refused.registry.require('web/add').run({ a: 1, b: 1 }, { signal })).rejects.toBeInstanceOf(ToolDefinitionChangedError);
  });

  it('without trust on first use every new tool is refused until accepted', async () => {
    const { toolset, registry } = await connect({ trustOnFirstUse: false });
    expect(toolset.pins.size).toBe(0);
    expect(toolset.pending().every((p) => p.state === 'unpinned')).toBe(true);
    await expect(registry.require('web/add').run({ a: 1, b: 1 }, { signal })).rejects.toBeInstanceOf(ToolNotPinnedError);
    const add = toolset.pending().find((p) => p.name === 'web/add')!;
    toolset.accept('web/add', add.offered);
    expect(await registry.require('web/add').run({ a: 1, b: 1 }, { signal })).toMatchObject({ structuredContent: { sum: 2 } });
    expect(toolset.stats().calls).toMatchObject({ refused_unpinned: 1, ok: 1 });
  });

  it('ToolPins refuses a pin that is not a hex sha-256', () => {
    expect(() => new ToolPins({ 'a/b': 'nope' })).toThrow(ValidationError);
  });
});

describe('size caps', () => {
  it('a result over maxResultBytes is refused (never handed over) and counted', async () => {
    const { toolset, registry } = await connect({ maxResultBytes: 4_096 });
    expect(await registry.require('web/big').run({ bytes: 1_000 }, { signal })).toMatchObject({ content: [{ text: 'x'.repeat(1_000) }] });
    const err = await Promise.resolve(registry.require('web/big').run({ bytes: 10_000 }, { signal })).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ToolResultTooLargeError);
    expect(err).toMatchObject({ limit: 4_096 });
    expect(toolset.stats().calls.refused_too_large).toBe(1);
  });

  it('a server listing more than maxTools tools is refused at connect (counted)', async () => {
    const toolset = new McpToolset({ name: 'web', transport: { type: 'http', url: fixture.url }, maxTools: 3 });
    await expect(toolset.connect()).rejects.toBeInstanceOf(ToolListTooLargeError);
    expect(toolset.stats().definitionsRefused.list_too_large).toBe(1);
    expect(toolset.connected).toBe(false);
  });

  it('a definition over maxDefinitionBytes is not usable, and cannot be accepted', async () => {
    const { toolset, registry } = await connect({ maxDefinitionBytes: 64 });
    const add = toolset.info().find((i) => i.name === 'web/add')!;
    expect(add.state).toBe('invalid');
    expect(add.reason).toMatch(/over the limit of 64/);
    await expect(registry.require('web/add').run({ a: 1, b: 1 }, { signal })).rejects.toBeInstanceOf(ToolDefinitionInvalidError);
    expect(() => toolset.accept('web/add', add.offered)).toThrow(ToolDefinitionInvalidError);
  });

  it('an HTTP response over maxMessageBytes is not buffered: the session closes, the call fails (counted)', async () => {
    const { toolset, registry } = await connect({ maxMessageBytes: 32 * 1024 });
    const err = await Promise.resolve(registry.require('web/big').run({ bytes: 100_000 }, { signal })).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ name: 'McpNotConnectedError', cause: { name: 'LimitExceededError' } });
    expect(toolset.connected).toBe(false);
    expect(toolset.stats()).toMatchObject({ calls: { failed: 1 }, definitionsRefused: { message_too_large: 1 } });
  });

  it('calls sharing one long-lived signal leave no listener on it', async () => {
    const { registry } = await connect();
    const shared = new AbortController().signal;
    for (let i = 0; i < 20; i++) await registry.require('web/add').run({ a: i, b: 1 }, { signal: shared });
    expect(getEventListeners(shared, 'abort')).toHaveLength(0);
  });
});
