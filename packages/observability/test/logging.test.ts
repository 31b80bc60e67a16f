import { Writable } from 'node:stream';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '@converge/core';
import { closeLogger, createLogger, createSilentLogger, logStruct, silentLogger, DEFAULT_REDACT_PATHS } from '../src/index.js';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[]; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  const text = () => chunks.join('');
  return {
    stream,
    text,
    lines: () =>
      text()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

const dir = mkdtempSync(join(tmpdir(), 'converge-obs-log-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('createLogger', () => {
  it('writes JSON lines with level, message, name and bindings', () => {
    const out = capture();
    const logger = createLogger({ destination: out.stream, name: 'svc', bindings: { service: 'worker' } });
    logger.info({ n: 1 }, 'hello');
    const [line] = out.lines();
    expect(line).toMatchObject({ level: 30, msg: 'hello', name: 'svc', service: 'worker', n: 1 });
  });

  it('child loggers carry agentId and taskId', () => {
    const out = capture();
    const logger = createLogger({ destination: out.stream }).child({ agentId: 'a1' }).child({ taskId: 't9' });
    logger.warn('claimed');
    expect(out.lines()[0]).toMatchObject({ agentId: 'a1', taskId: 't9', msg: 'claimed', level: 40 });
  });

  it('redacts secret-like keys at the top level and one level deep by default', () => {
    const out = capture();
    const logger = createLogger({ destination: out.stream });
    logger.info(
      { token: 'T', password: 'P', identity: { secretKey: 'S', privateKey: 'K', name: 'ok' }, headers: { authorization: 'Bearer x' }, apiKey: 'A' },
      'cfg',
    );
    const text = out.text();
    for (const secret of ['"T"', '"P"', '"S"', '"K"', 'Bearer x', '"A"']) expect(text).not.toContain(secret);
    const line = out.lines()[0] as { token: string; identity: { secretKey: string; name: string }; headers: { authorization: string } };
    expect(line.token).toBe('[redacted]');
    expect(line.identity.secretKey).toBe('[redacted]');
    expect(line.identity.name).toBe('ok');
    expect(line.headers.authorization).toBe('[redacted]');
    expect(DEFAULT_REDACT_PATHS).toContain('*.token');
  });

  it('redacts secrets in child bindings and never modifies the logged object', () => {
    const out = capture();
    const logger = createLogger({ destination: out.stream }).child({ agentId: 'a', auth: { token: 'child-secret' }, password: 'pw' });
    const fields = { cfg: { apiKey: 'k1', url: 'u' }, n: 1 };
    logger.info(fields, 'x');
    expect(out.text()).not.toContain('child-secret');
    expect(out.text()).not.toContain('"pw"');
    expect(out.text()).not.toContain('k1');
    expect(out.lines()[0]).toMatchObject({ agentId: 'a', cfg: { apiKey: '[redacted]', url: 'u' }, n: 1 });
    expect(fields.cfg.apiKey).toBe('k1');
  });

  it('pino redaction paths can extend the defaults', () => {
    const out = capture();
    createLogger({ destination: out.stream, redact: [...DEFAULT_REDACT_PATHS, 'a.b.c'] }).info({ a: { b: { c: 'deep' } }, x: { token: 't' } }, 'x');
    expect(out.lines()[0]).toMatchObject({ a: { b: { c: '[redacted]' } }, x: { token: '[redacted]' } });
  });

  it('redaction can be replaced or turned off', () => {
    const out = capture();
    createLogger({ destination: out.stream, redact: ['custom'] }).info({ custom: 'c', token: 't' }, 'x');
    expect(out.lines()[0]).toMatchObject({ custom: '[redacted]', token: 't' });
    const off = capture();
    createLogger({ destination: off.stream, redact: [] }).info({ token: 't', x: { password: 'p' } }, 'x');
    expect(off.lines()[0]).toMatchObject({ token: 't', x: { password: 'p' } });
  });

  it('respects the level', () => {
    const out = capture();
    const logger = createLogger({ destination: out.stream, level: 'warn' });
    logger.info('dropped');
    logger.error('kept');
    expect(out.lines().map((l) => l.msg)).toEqual(['kept']);
  });

  it('refuses an unknown level with ConfigError', () => {
    expect(() => createLogger({ level: 'loud' })).toThrow(ConfigError);
  });

  it('writes to a file path and flushes', async () => {
    const file = join(dir, 'sub', 'app.log');
    const logger = createLogger({ destination: file });
    for (let i = 0; i < 100; i++) logger.info({ i }, 'line');
    await closeLogger(logger);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(100);
    expect(JSON.parse(lines[99]!)).toMatchObject({ i: 99, msg: 'line' });
  });

  it('pretty mode through the pino-pretty transport writes to a file', async () => {
    const file = join(dir, 'pretty.log');
    const logger = createLogger({ destination: file, pretty: true });
    logger.info({ agentId: 'a1' }, 'via transport');
    await closeLogger(logger);
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('via transport');
    expect(text).toContain('agentId');
    expect(text.startsWith('{')).toBe(false);
  });

  it('pretty mode writes human-readable lines to a stream', async () => {
    const out = capture();
    const logger = createLogger({ destination: out.stream, pretty: true });
    logger.info({ agentId: 'a1' }, 'pretty hello');
    await new Promise((r) => setImmediate(r));
    const text = out.text();
    expect(text).toContain('pretty hello');
    expect(text).toContain('INFO');
    expect(() => JSON.parse(text.split('\n')[0]!)).toThrow();
  });

  it('pretty mode with singleLine keeps each entry and its fields on one line', async () => {
    const out = capture();
    const logger = createLogger({ destination: out.stream, pretty: true, singleLine: true });
    logger.info({ agentId: 'a1', status: 'ok' }, 'one line');
    await new Promise((r) => setImmediate(r));
    const lines = out
      .text()
      .split('\n')
      .filter((l) => l.length > 0);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/INFO.*one line.*"agentId":"a1".*"status":"ok"/);
  });
});

describe('logStruct', () => {
  it('logs at the chosen level with fields', () => {
    const out = capture();
    const logger = createLogger({ destination: out.stream, level: 'trace' });
    logStruct(logger, 'debug', 'step', { agentId: 'x', step: 3 });
    logStruct(logger, 'fatal', 'bare');
    expect(out.lines()).toMatchObject([
      { level: 20, msg: 'step', agentId: 'x', step: 3 },
      { level: 60, msg: 'bare' },
    ]);
  });

  it('refuses an unknown level', () => {
    expect(() => logStruct(createSilentLogger(), 'loud' as 'info', 'x')).toThrow(ConfigError);
  });
});

describe('silent loggers', () => {
  it('write nothing even when their level is raised', () => {
    const a = createSilentLogger();
    const b = createSilentLogger();
    expect(a).not.toBe(b);
    expect(a.isLevelEnabled('fatal')).toBe(false);
    a.level = 'info';
    expect(() => a.info('nothing')).not.toThrow();
    expect(silentLogger.isLevelEnabled('error')).toBe(false);
    expect(() => silentLogger.child({ agentId: 'a' }).error('nothing')).not.toThrow();
  });
});
