// An MCP server built with the official SDK over Streamable HTTP on 127.0.0.1 serves tools that
// an agent calls through the StandardExecutor (allowlist, timeout, concurrency limits).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Decisions, Identity, LimitExceededError, ToolRegistry } from '@converge/core';
import { ResourceLimits } from '@converge/policy';
import { StandardExecutor, type ExecutionContext } from '@converge/runtime';
import { McpToolset } from '../src/index.js';
import { startHttpFixture, type HttpFixture } from './fixtures/http-server.js';
import { ScriptedAgent, outcomeOfTool, runAgent, until } from './support.js';

let fixture: HttpFixture;
let toolset: McpToolset;
let registry: ToolRegistry;

beforeEach(async () => {
  fixture = await startHttpFixture();
  toolset = new McpToolset({ name: 'web', transport: { type: 'http', url: fixture.url } });
  await toolset.connect();
  registry = new ToolRegistry();
  toolset.register(registry);
});
afterEach(async () => {
  await toolset.close();
  await fixture.close();
});

function context(): ExecutionContext {
  const identity = Identity.generate();
  return { agentId: identity.fingerprint, identity, leases: new Map() };
}

describe('MCP over Streamable HTTP (127.0.0.1): a server built with the official SDK', () => {
  it("a tool result reaches the agent's next decide as an ok outcome", async () => {
    expect(registry.names()).toContain('web/add');
    const agent = new ScriptedAgent([
      () => [Decisions.invokeTool('web/add', { a: 20, b: 22 })],
      (outcomes) => {
        const sum = (outcomeOfTool(outcomes, 'web/add').result as { structuredContent: { sum: number } }).structuredContent.sum;
        return [Decisions.invokeTool('web/add', { a: sum, b: -2 })];
      },
    ]);
    await runAgent(agent, registry, ['web/add']);
    expect(agent.turns[0]![0]).toMatchObject({ status: 'ok', result: { structuredContent: { sum: 42 } } });
    expect(agent.turns[1]![0]).toMatchObject({ status: 'ok', result: { structuredContent: { sum: 40 } } });
  });

  it('schema-invalid input is refused and never sent', async () => {
    const agent = new ScriptedAgent([() => [Decisions.invokeTool('web/add', { a: 1, b: [2] })]]);
    await runAgent(agent, registry, ['web/add']);
    expect(agent.turns[0]![0]).toMatchObject({ status: 'refused', error: { name: 'ToolInputInvalidError' } });
    expect(agent.turns[0]![0]!.error!.message).toContain('/b must be number');
    expect(toolset.stats().calls).toMatchObject({ refused_input: 1, ok: 0 });
  });

  it('a hanging tool times out, and the cancellation reaches the server', async () => {
    const agent = new ScriptedAgent([() => [Decisions.invokeTool('web/slow', {}, 200)]]);
    await runAgent(agent, registry, ['web/slow']);
    expect(agent.turns[0]![0]).toMatchObject({ status: 'timeout', error: { name: 'TimeoutError' } });
    await until(() => fixture.probe.cancelled === 1, 'the server to see the cancellation');
    expect(fixture.probe.slowStarted).toBe(1);
  });

  it('a changed definition, found by refresh(), is refused until accepted', async () => {
    const signal = new AbortController().signal;
    await registry.require('web/redefine').run({ description: 'now different' }, { signal });
    const summary = await toolset.refresh();
    // The list_changed notification may have re-listed first; either way the change is pending.
    expect(summary.added).toEqual([]);
    const [pending] = toolset.pending();
    expect(pending).toMatchObject({ name: 'web/add', state: 'changed' });
    const before = new ScriptedAgent([() => [Decisions.invokeTool('web/add', { a: 1, b: 1 })]]);
    await runAgent(before, registry, ['web/add']);
    expect(before.turns[0]![0]).toMatchObject({ status: 'refused', error: { name: 'ToolDefinitionChangedError' } });
    toolset.accept('web/add', pending!.offered);
    const after = new ScriptedAgent([() => [Decisions.invokeTool('web/add', { a: 1, b: 1 })]]);
    await runAgent(after, registry, ['web/add']);
    expect(after.turns[0]![0]).toMatchObject({ status: 'ok', result: { structuredContent: { sum: 2 } } });
  });

  it('a tool the server stops listing is refused (ToolRemovedError) until it is listed again', async () => {
    const signal = new AbortController().signal;
    await registry.require('web/toggle-big').run({ enabled: false }, { signal });
    const hidden = await toolset.refresh();
    expect(toolset.info().find((i) => i.name === 'web/big')?.state).toBe('removed');
    // The list_changed notification may have re-listed first: then this refresh found nothing new.
    expect([[], ['web/big']]).toContainEqual(hidden.removed);
    const agent = new ScriptedAgent([() => [Decisions.invokeTool('web/big', { bytes: 3 })]]);
    await runAgent(agent, registry, ['web/big']);
    expect(agent.turns[0]![0]).toMatchObject({ status: 'refused', error: { name: 'ToolRemovedError', code: 'ERR_MCP_TOOL_REMOVED' } });
    await registry.require('web/toggle-big').run({ enabled: true }, { signal });
    await toolset.refresh();
    // Listed again with the same definition: it matches its pin, so it is ready at once.
    expect(await registry.require('web/big').run({ bytes: 3 }, { signal })).toMatchObject({ content: [{ text: 'xxx' }] });
    expect(toolset.stats().calls).toMatchObject({ refused_removed: 1, ok: 3 }); // two toggles and big
  });

  it("MCP tools share the executor's concurrency limit: a call beyond it is refused", async () => {
    const limits = new ResourceLimits({ maxConcurrentToolCalls: 1, maxToolWaiters: 0 });
    const options = { tools: registry, toolAllowlist: ['web/slow', 'web/add'], toolTimeoutMs: 2_000, limits };
    const first = new StandardExecutor(options).execute([Decisions.invokeTool('web/slow', {}, 1_000)], context());
    await until(() => fixture.probe.slowStarted === 1, 'the slow call to start');
    const [second] = await new StandardExecutor(options).execute([Decisions.invokeTool('web/add', { a: 1, b: 2 })], context());
    expect(second).toMatchObject({ ok: false, outcome: 'refused' });
    expect((second as { error: Error }).error).toBeInstanceOf(LimitExceededError);
    const [slow] = await first;
    expect(slow).toMatchObject({ ok: false, outcome: 'error' });
    expect((slow as { error: Error }).error.name).toBe('TimeoutError');
  });
});
