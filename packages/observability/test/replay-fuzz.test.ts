// Property-based tests of the NDJSON replay format: arbitrary or mutated text given to
// ReplayLog.parse / ReplayLog.load either loads or throws ReplayFormatError naming a line of
// the input (the corrupted one, when exactly one line of a valid log was corrupted); never any
// other exception. Runs: CONVERGE_FUZZ_RUNS (default 300; load() runs a quarter of that).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Decisions, Float64, Identity, createMessage, createTopic, signMessage } from '@converge/core';
import { ReplayFormatError, ReplayLog } from '../src/replay-log.js';

const RUNS = Number(process.env.CONVERGE_FUZZ_RUNS ?? 300);
const dir = mkdtempSync(join(tmpdir(), 'converge-replay-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const alice = Identity.generate();
function validLog(): string {
  const log = new ReplayLog();
  const msgs = [0, 1, 2].map((i) =>
    signMessage(createMessage({ recipient: null, topics: [createTopic('t', { i })], payload: { i, f: new Float64(2), b: new Uint8Array([i]) } }), alice),
  );
  for (const m of msgs) log.recordMessage(m);
  log.recordDecisions('agent-1', [Decisions.claimTask('t-1'), Decisions.sendMessage(null, { x: 1n })], msgs.slice(0, 2));
  log.recordDecisions('agent-2', [Decisions.reportTask('t-1', new Float64(1.5))], msgs.slice(2));
  return log.toNDJSON();
}
const VALID = validLog();
const VALID_LINES = VALID.split('\n');

/** parse(): loads, or throws ReplayFormatError with a line in 1..lineCount. Returns the line, or 0. */
function parseOutcome(text: string): number {
  try {
    const log = ReplayLog.parse(text);
    log.entries(); // must decode again without throwing
    return 0;
  } catch (err) {
    expect(err).toBeInstanceOf(ReplayFormatError);
    const e = err as ReplayFormatError;
    expect(e.code).toBe('ERR_REPLAY_FORMAT');
    expect(Number.isInteger(e.line)).toBe(true);
    expect(e.line).toBeGreaterThanOrEqual(1);
    expect(e.line).toBeLessThanOrEqual(text.split(/\r\n|\r|\n/).length);
    expect(e.message).toContain(`line ${e.line}`);
    return e.line;
  }
}

async function loadOutcome(text: string, n: number): Promise<number> {
  const path = join(dir, `f-${n}.ndjson`);
  writeFileSync(path, text);
  try {
    (await ReplayLog.load(path)).entries();
    return 0;
  } catch (err) {
    expect(err).toBeInstanceOf(ReplayFormatError);
    return (err as ReplayFormatError).line;
  } finally {
    rmSync(path, { force: true });
  }
}

// One line of the valid log, mutated: truncated, a character replaced/inserted/deleted, or
// replaced by arbitrary JSON.
const mutation = fc.record({
  line: fc.nat(VALID_LINES.length - 2), // the last element is the empty string after the final newline
  kind: fc.constantFrom('truncate', 'replace', 'insert', 'delete', 'json', 'field'),
  at: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
  char: fc.string({ unit: 'binary', minLength: 1, maxLength: 3 }).filter((s) => !/[\n\r]/.test(s)),
  json: fc.json({ maxDepth: 3 }),
  field: fc.constantFrom('v', 'seq', 'at', 'kind', 'id', 'bytes', 'agentId', 'inputs', 'decisions', 'tasks'),
});

function mutate(m: typeof mutation extends fc.Arbitrary<infer T> ? T : never): string {
  const lines = [...VALID_LINES];
  const s = lines[m.line]!;
  const i = Math.floor(m.at * s.length);
  switch (m.kind) {
    case 'truncate':
      lines[m.line] = s.slice(0, i);
      break;
    case 'replace':
      lines[m.line] = s.slice(0, i) + m.char + s.slice(i + 1);
      break;
    case 'insert':
      lines[m.line] = s.slice(0, i) + m.char + s.slice(i);
      break;
    case 'delete':
      lines[m.line] = s.slice(0, i) + s.slice(i + 1);
      break;
    case 'json':
      lines[m.line] = m.json.replace(/\n/g, ' ');
      break;
    case 'field': {
      const o = JSON.parse(s) as Record<string, unknown>;
      o[m.field] = JSON.parse(m.json);
      lines[m.line] = JSON.stringify(o);
      break;
    }
  }
  return lines.join('\n');
}

// Text with CR, CRLF and LF line breaks in arbitrary places (readline splits on all three).
const crText = fc.array(fc.oneof(fc.constantFrom('\r', '\n', '\r\n', '{', '}'), fc.string({ maxLength: 8 })), { maxLength: 20 }).map((a) => a.join(''));

describe('ReplayLog NDJSON (property-based)', () => {
  it('parse and load name the same line when a file holds a lone CR', async () => {
    expect(parseOutcome('\r{bad')).toBe(2);
    expect(await loadOutcome('\r{bad', -2)).toBe(2);
  });

  it('the unmutated log loads', async () => {
    expect(parseOutcome(VALID)).toBe(0);
    expect(ReplayLog.parse(VALID).entries()).toHaveLength(5);
    expect(await loadOutcome(VALID, -1)).toBe(0);
  });

  it('parse: arbitrary text loads or throws ReplayFormatError with a line number', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 400 }),
          fc.array(fc.json({ maxDepth: 3 }), { maxLength: 6 }).map((a) => a.join('\n')),
        ),
        (text) => {
          parseOutcome(text);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('parse: one corrupted line of a valid log is reported at that line (or still loads)', () => {
    fc.assert(
      fc.property(mutation, (m) => {
        const line = parseOutcome(mutate(m));
        if (line !== 0) expect(line).toBe(m.line + 1);
      }),
      { numRuns: RUNS },
    );
  });

  it('load: agrees with parse on arbitrary and mutated files (same outcome, same line)', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof(mutation.map(mutate), fc.string({ unit: 'binary', maxLength: 300 }), crText), async (text) => {
        expect(await loadOutcome(text, n++)).toBe(parseOutcome(text));
      }),
      { numRuns: Math.max(20, Math.round(RUNS / 4)) },
    );
  });
});
