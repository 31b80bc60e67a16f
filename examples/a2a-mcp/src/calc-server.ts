// The MCP server of the example, built with the official SDK: one tool, `multiply`, over stdio.
// Started by main.ts as a child process (node --import tsx calc-server.ts).
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

const server = new McpServer({ name: 'calc', version: '1.0.0' });
server.registerTool(
  'multiply',
  { description: 'Multiplies two numbers', inputSchema: { a: z.number(), b: z.number() }, outputSchema: { product: z.number() } },
  async ({ a, b }) => ({ content: [{ type: 'text', text: String(a * b) }], structuredContent: { product: a * b } }),
);
await server.connect(new StdioServerTransport());
