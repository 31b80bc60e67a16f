// The MCP server the mcp suite calls over stdio (files starting with _ are not suites).
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { makeCalcServer } from './_mcp-calc.js';

await makeCalcServer().connect(new StdioServerTransport());
