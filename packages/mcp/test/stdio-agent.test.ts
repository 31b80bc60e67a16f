// An MCP server built with the official SDK, run as a child process over stdio, serves tools
// that an agent (AgentRuntime + StandardExecutor) calls; outcomes reach its next turn.
import { afterEach, describe, expect, it } from 'vitest';
import { ConflictError, Decisions, ToolRegistry } from '@converge/core';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { McpToolset, ToolDefinitionChangedError } from '../src/index.js';
import { ScriptedAgent, outcomeOfTool, runAgent, stdioFixture, until } from './support.js';

let toolset: McpToolset | undefined;
afterEach(async () => {
  await toolset?.close();
  toolset = undefined;
});

async function connected(): Promise<{ toolset: McpToolset; registry: ToolRegistry }> {
  toolset = new McpToolset({ name: 'fx', transport: stdioFixture() });
  await toolset.connect();
  const registry = new ToolRegistry();
  toolset.register(registry);
  return { toolset, registry };
}

describe('MCP over stdio: a child-process server built with the official SDK', () => {
  it('lists the server tools namespaced server/tool, each pinned by its definition hash', async () => {
    const { toolset, registry } = await connected();
    expect(registry.names().sort()).toEqual(['fx/add', 'fx/big', 'fx/env', 'fx/fail', 'fx/redefine', 'fx/slow', 'fx/toggle-big']);
    const add = toolset.info().find((i) => i.name === 'fx/add')!;
    expect(add).toMatchObject({ mcpName: 'add', state: 'ready', pinned: add.offered });
    expect(add.offered).toMatch(/^[0-9a-f]{64}$/);
    expect(toolset.pins.get('fx/add')).toBe(add.offered);
  });

  it("a tool result reaches the agent's next decide as an ok outcome, and feeds its next call", async () => {
    const { registry } = await connected();
    const agent = new ScriptedAgent([
      () => [Decisions.invokeTool('fx/add', { a: 2, b: 3 })],
      (outcomes) => {
        const sum = (outcomeOfTool(outcomes, 'fx/add').result as { structuredContent: { sum: number } }).structuredContent.sum;
        return [Decisions.invokeTool('fx/add', { a: sum, b: 10 })];
      },
    ]);
    await runAgent(agent, registry, ['fx/add']);
    expect(agent.turns).toHaveLength(2);
    expect(agent.turns[0]![0]).toMatchObject({ status: 'ok', result: { content: [{ type: 'text', text: '5' }], structuredContent: { sum: 5 } } });
    expect(agent.turns[1]![0]).toMatchObject({ status: 'ok', result: { structuredContent: { sum: 15 } } });
  });

  it('refuses schema-invalid input before sending it, and tools outside the executor allowlist', async () => {
    const { toolset, registry } = await connected();
    const agent = new ScriptedAgent([
      () => [Decisions.invokeTool('fx/add', { a: 'two', b: 3 }), Decisions.invokeTool('fx/add', { a: 1 }), Decisions.invokeTool('fx/fail', {})],
    ]);
    await runAgent(agent, registry, ['fx/add']);
    const [wrongType, missing, notAllowed] = agent.turns[0]!;
    expect(wrongType).toMatchObject({ status: 'refused', error: { name: 'ToolInputInvalidError', code: 'ERR_MCP_INPUT_INVALID' } });
    expect(wrongType!.error!.message).toContain('/a must be number');
    expect(missing).toMatchObject({ status: 'refused', error: { name: 'ToolInputInvalidError' } });
    expect(missing!.error!.message).toContain("must have required property 'b'");
    expect(notAllowed).toMatchObject({ status: 'refused', error: { name: 'PolicyError', message: 'tool fx/fail is not in the allowlist' } });
    // Neither invalid input reached the server (the server's own validation would be a tool error).
    expect(toolset.stats().calls).toMatchObject({ refused_input: 2, ok: 0, tool_error: 0 });
  });

  it('a hanging tool times out under the executor timeout (outcome timeout)', async () => {
    const { toolset, registry } = await connected();
    const agent = new ScriptedAgent([() => [Decisions.invokeTool('fx/slow', {}, 200)]]);
    await runAgent(agent, registry, ['fx/slow']);
    expect(agent.turns[0]![0]).toMatchObject({ status: 'timeout', error: { name: 'TimeoutError', message: 'tool fx/slow timed out after 200 ms' } });
    expect(toolset.stats().calls.timeout).toBe(1);
  });

  it('a changed tool definition is refused (typed, counted) until accepted by its hash', async () => {
    const { toolset, registry } = await connected();
    const pinned = toolset.pins.get('fx/add')!;
    // The server changes add's definition and notifies (tools/list_changed): the toolset re-lists.
    const changer = new ScriptedAgent([() => [Decisions.invokeTool('fx/redefine', { description: 'Adds two numbers, and mails them home' })]]);
    await runAgent(changer, registry, ['fx/redefine']);
    expect(changer.turns[0]![0]!.status).toBe('ok');
    await until(() => toolset.pending().length === 1, 'the changed definition to be seen');
    const [pending] = toolset.pending();
    expect(pending).toMatchObject({ name: 'fx/add', state: 'changed', pinned });
    expect(pending!.offered).not.toBe(pinned);
    expect(pending!.definition.description).toBe('Adds two numbers, and mails them home');
    // What a prompt builder reads stays the reviewed text until the change is accepted.
    expect(registry.require('fx/add').description).toBe('Adds two numbers');
    expect(toolset.stats().definitionsRefused.changed).toBe(1);

    const refused = new ScriptedAgent([() => [Decisions.invokeTool('fx/add', { a: 1, b: 2 })]]);
    await runAgent(refused, registry, ['fx/add']);
    expect(refused.turns[0]![0]).toMatchObject({ status: 'refused', error: { name: 'ToolDefinitionChangedError', code: 'ERR_MCP_TOOL_CHANGED' } });
    await expect(registry.require('fx/add').run({ a: 1, b: 2 }, { signal: new AbortController().signal })).rejects.toBeInstanceOf(ToolDefinitionChangedError);
    expect(toolset.stats().calls.refused_changed).toBe(2);

    // Accepting needs the hash of the definition reviewed: any other is a conflict.
    expect(() => toolset.accept('fx/add', pinned)).toThrow(ConflictError);
    toolset.accept('fx/add', pending!.offered);
    expect(toolset.pins.get('fx/add')).toBe(pending!.offered);
    expect(toolset.pending()).toEqual([]);
    expect(registry.require('fx/add').description).toBe('Adds two numbers, and mails them home');
    const accepted = new ScriptedAgent([() => [Decisions.invokeTool('fx/add', { a: 1, b: 2 })]]);
    await runAgent(accepted, registry, ['fx/add']);
    expect(accepted.turns[0]![0]).toMatchObject({ status: 'ok', result: { structuredContent: { sum: 3 } } });
  });

  it("a tool error (isError) is a failed outcome carrying the tool's text", async () => {
    const { registry } = await connected();
    const agent = new ScriptedAgent([() => [Decisions.invokeTool('fx/fail', {})]]);
    await runAgent(agent, registry, ['fx/fail']);
    expect(agent.turns[0]![0]).toMatchObject({ status: 'failed', error: { name: 'McpToolCallError', message: 'tool fx/fail reported an error: boom' } });
  });

  it("the child gets the SDK default environment, not the parent's secrets", async () => {
    process.env.CONVERGE_MCP_TEST_SECRET = 'hunter2';
    try {
      const { registry } = await connected();
      const signal = new AbortController().signal;
      expect(await registry.require('fx/env').run({ name: 'CONVERGE_MCP_TEST_SECRET' }, { signal })).toMatchObject({ content: [{ text: 'unset' }] });
      expect(await registry.require('fx/env').run({ name: 'PATH' }, { signal })).toMatchObject({ content: [{ text: 'set' }] });
    } finally {
      delete process.env.CONVERGE_MCP_TEST_SECRET;
    }
  });

  it('a message over maxMessageBytes closes the session (the SDK read-buffer bound), counted', async () => {
    toolset = new McpToolset({ name: 'fx', transport: stdioFixture(), maxMessageBytes: 32 * 1024 });
    await toolset.connect();
    const big = toolset.tools().find((t) => t.name === 'fx/big')!;
    await expect(big.run({ bytes: 100_000 }, { signal: new AbortController().signal })).rejects.toMatchObject({
      name: 'McpNotConnectedError',
      cause: { name: 'LimitExceededError' },
    });
    expect(toolset.connected).toBe(false);
    expect(toolset.stats().definitionsRefused.message_too_large).toBe(1);
  });

  it('close() stops the child process; a pre-aborted connect starts nothing', async () => {
    const fx = stdioFixture();
    const transport = new StdioClientTransport({ command: fx.command, args: [...fx.args!], cwd: fx.cwd, stderr: 'inherit' });
    toolset = new McpToolset({ name: 'fx', transport: { type: 'custom', transport } });
    await toolset.connect();
    const pid = transport.pid!;
    expect(() => process.kill(pid, 0)).not.toThrow();
    await toolset.close();
    await until(() => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    }, 'the child to exit');
    const never = new McpToolset({ name: 'fx', transport: stdioFixture() });
    await expect(never.connect({ signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    expect(never.connected).toBe(false);
  });

  it('after close, calls fail with McpNotConnectedError', async () => {
    const { toolset, registry } = await connected();
    await toolset.close();
    await expect(registry.require('fx/add').run({ a: 1, b: 2 }, { signal: new AbortController().signal })).rejects.toMatchObject({
      name: 'McpNotConnectedError',
    });
  });
});
