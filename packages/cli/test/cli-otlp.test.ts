// `converge run --otlp URL`: spans leave the process over OTLP/HTTP (JSON) to a local receiver,
// and one trace spans the coordinator and a worker: submit -> claim -> execute -> report.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes?: { key: string; value: OtlpValue }[];
}
interface OtlpRequest {
  resourceSpans: { resource?: { attributes?: { key: string; value: OtlpValue }[] }; scopeSpans: { spans: OtlpSpan[] }[] }[];
}

const posts: { path: string; contentType: string | undefined }[] = [];
const spans: OtlpSpan[] = [];
const services = new Set<string>();
let url = '';

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let s = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (s += c));
    req.on('end', () => resolve(s));
    req.on('error', reject);
  });
}

// A minimal OTLP/HTTP receiver: accepts POST /v1/traces with a JSON body, keeps the spans.
const server = createServer((req, res) => {
  void (async () => {
    posts.push({ path: req.url ?? '', contentType: req.headers['content-type'] });
    if (req.method !== 'POST' || req.url !== '/v1/traces') {
      res.writeHead(404).end();
      return;
    }
    const msg = JSON.parse(await body(req)) as OtlpRequest;
    for (const rs of msg.resourceSpans) {
      const svc = rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue;
      if (svc) services.add(svc);
      for (const ss of rs.scopeSpans) spans.push(...ss.spans);
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  })();
});

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

const attr = (s: OtlpSpan, key: string) => s.attributes?.find((a) => a.key === key)?.value.stringValue;

describe('converge run --otlp', () => {
  it('exports spans over OTLP/HTTP, and a task is one trace from the coordinator to a worker', async () => {
    const r = await runCli(['run', '--tasks', '20', '--agents', '2', '--assignment', 'claim', '--json', '--otlp', url], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(posts.length).toBeGreaterThan(0);
    expect(posts.every((p) => p.path === '/v1/traces' && /json/.test(p.contentType ?? ''))).toBe(true);
    expect([...services]).toEqual(['converge']);

    const submits = spans.filter((s) => s.name === 'agent.outcome' && attr(s, 'converge.decision') === 'SubmitTask');
    expect(submits.length).toBeGreaterThan(0);
    const coordinator = attr(submits[0]!, 'converge.agent');
    // A trace whose submit was the coordinator's and whose claim and report were a worker's.
    const traced = submits.map((submit) => {
      const inTrace = spans.filter((s) => s.traceId === submit.traceId);
      const claim = inTrace.find((s) => attr(s, 'converge.decision') === 'ClaimTask');
      const report = inTrace.find((s) => attr(s, 'converge.decision') === 'ReportTask');
      const execute = inTrace.find((s) => s.name === 'agent.execute' && claim && s.spanId === claim.parentSpanId);
      return { submit, claim, report, execute };
    });
    const full = traced.find((t) => t.claim && t.report && t.execute);
    expect(full, 'no trace with submit, claim, execute and report').toBeDefined();
    const worker = attr(full!.claim!, 'converge.agent');
    expect(worker).toBeDefined();
    expect(worker).not.toBe(coordinator);
    expect(attr(full!.report!, 'converge.agent')).toBe(worker);
    expect(attr(full!.execute!, 'converge.agent')).toBe(worker);
    // One trace id throughout.
    expect(new Set([full!.submit.traceId, full!.claim!.traceId, full!.execute!.traceId, full!.report!.traceId]).size).toBe(1);
  });

  it('refuses a URL that is not http(s) (exit 2)', async () => {
    const r = await runCli(['run', '--tasks', '1', '--otlp', 'ftp://x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('otlp');
  });
});
