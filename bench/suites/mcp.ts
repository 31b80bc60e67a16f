// mcp.local_tool_calls_per_s: InvokeTool decisions/s through a StandardExecutor (allowlist,
//   timeout, tool slot) on an in-process tool: the baseline.
// mcp.stdio_calls_per_s / mcp.http_calls_per_s: the same, on an MCP tool (`@converge/mcp`, an
//   official-SDK server as a stdio child process / over Streamable HTTP on 127.0.0.1), input
//   validated with Ajv, one call at a time.
// mcp.stdio_call_p50_us / _p99_us, mcp.http_call_p50_us / _p99_us: latency of one such call.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { Decisions, Identity, ToolRegistry, type Decision } from '@converge/core';
import { McpToolset } from '@converge/mcp';
import { ResourceLimits } from '@converge/policy';
import { StandardExecutor, type ExecutionContext } from '@converge/runtime';
import { opsPerSecond, percentile, type BenchContext } from '../harness.js';
import { makeCalcServer } from './_mcp-calc.js';

const here = dirname(fileURLToPath(import.meta.url));

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return chunks.length > 0 ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
}

/** A Streamable HTTP server on 127.0.0.1 with one session. */
async function startHttp(): Promise<{ url: string; close(): Promise<void> }> {
  let transport: StreamableHTTPServerTransport | undefined;
  const http = createServer(
    (req, res) =>
      void (async () => {
        const body = req.method === 'POST' ? await readJson(req) : undefined;
        if (transport === undefined) {
          transport = new StreamableHTTPServerTransport({ sessionIdGenerator: () => randomUUID() });
          await makeCalcServer().connect(transport);
        }
        await transport.handleRequest(req, res, body);
      })(),
  );
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`,
    close: async () => {
      await transport?.close();
      http.closeAllConnections();
      await new Promise<void>((r) => http.close(() => r()));
    },
  };
}

function executorFor(tools: ToolRegistry, name: string): (d: Decision) => Promise<void> {
  const executor = new StandardExecutor({ tools, toolAllowlist: [name], toolTimeoutMs: 10_000, limits: new ResourceLimits({ maxConcurrentToolCalls: 4 }) });
  const identity = Identity.generate();
  const ctx: ExecutionContext = { agentId: identity.fingerprint, identity, leases: new Map() };
  return async (d) => {
    const [r] = await executor.execute([d], ctx);
    if (!r!.ok) throw r!.error;
  };
}

async function measure(ctx: BenchContext, label: string, toolset: McpToolset): Promise<void> {
  await toolset.connect();
  const tools = new ToolRegistry();
  toolset.register(tools);
  const run = executorFor(tools, 'calc/add');
  const call = Decisions.invokeTool('calc/add', { a: 2, b: 3 });
  ctx.report({
    name: `mcp.${label}_calls_per_s`,
    value: await opsPerSecond(() => run(call), { durationMs: 1500 * ctx.scale }),
    unit: 'calls/s',
    baseline: 'mcp.local_tool_calls_per_s',
  });
  const samples: number[] = [];
  for (let i = 0; i < 300; i++) {
    const t0 = process.hrtime.bigint();
    await run(call);
    samples.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  samples.sort((a, b) => a - b);
  ctx.report({ name: `mcp.${label}_call_p50_us`, value: percentile(samples, 50), unit: 'us' });
  ctx.report({ name: `mcp.${label}_call_p99_us`, value: percentile(samples, 99), unit: 'us' });
  await toolset.close();
}

export default async function mcp(ctx: BenchContext): Promise<void> {
  const local = new ToolRegistry([{ name: 'add', run: (p) => ({ sum: (p.a as number) + (p.b as number) }) }]);
  const runLocal = executorFor(local, 'add');
  const localCall = Decisions.invokeTool('add', { a: 2, b: 3 });
  ctx.report({ name: 'mcp.local_tool_calls_per_s', value: await opsPerSecond(() => runLocal(localCall), { durationMs: 1500 * ctx.scale }), unit: 'calls/s' });

  await measure(
    ctx,
    'stdio',
    new McpToolset({
      name: 'calc',
      transport: { type: 'stdio', command: process.execPath, args: ['--import', 'tsx', resolve(here, '_mcp-calc-server.ts')], cwd: resolve(here, '../..') },
    }),
  );
  const http = await startHttp();
  try {
    await measure(ctx, 'http', new McpToolset({ name: 'calc', transport: { type: 'http', url: http.url } }));
  } finally {
    await http.close();
  }
}
