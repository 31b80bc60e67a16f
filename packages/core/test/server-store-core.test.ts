// The shared part of the server-backed stores: counts and their series, retry warnings, the
// life cycle and the error wrapping (the stores' own suites run it against real servers).
import { describe, expect, it } from 'vitest';
import { ServerStoreCore, StoreError, StoreTelemetry, type StoreMetricsSink } from '../src/index.js';

function sink(): { metrics: StoreMetricsSink; incs: { name: string; labels: unknown }[]; names: string[] } {
  const incs: { name: string; labels: unknown }[] = [];
  const names: string[] = [];
  return {
    incs,
    names,
    metrics: {
      counter: (name, _help, labelNames) => {
        names.push(name);
        expect(labelNames).toEqual(['store']);
        return { inc: (labels) => incs.push({ name, labels }) };
      },
    },
  };
}

const transient = { name: 'Fake', isTransient: (err: unknown) => (err as Error).message === 'down' };
const kind = { name: 'FakeStore', label: 'fake', backend: transient, defaultMaxValueBytes: 64 };

describe('StoreTelemetry', () => {
  it('counts into its snapshot and into the series with the store label; notifications have no series', () => {
    const s = sink();
    const t = new StoreTelemetry({ store: 'fake', backend: 'Fake', metrics: s.metrics });
    expect(s.names).toEqual([
      'converge_store_retries_total',
      'converge_store_unavailable_total',
      'converge_store_corrupt_records_total',
      'converge_store_watch_listener_errors_total',
      'converge_store_watch_connection_lost_total',
    ]);
    t.count('corrupt');
    t.count('notifications');
    expect(t.counts).toEqual({ retries: 0, unavailable: 0, corrupt: 1, watchErrors: 0, connectionLost: 0, notifications: 1 });
    expect(s.incs).toEqual([{ name: 'converge_store_corrupt_records_total', labels: { store: 'fake' } }]);
  });

  it('a throwing watch listener is counted and logged; a retry is counted and logged with the context', () => {
    const warnings: [object, string | undefined][] = [];
    const t = new StoreTelemetry({ store: 'fake', backend: 'Fake', context: { table: 't1' }, logger: { warn: (o, m) => warnings.push([o, m]) } });
    t.watchers.add('', () => {
      throw new Error('boom');
    });
    t.watchers.emit('k');
    t.hooks.onRetry(new Error('down'), 1);
    t.hooks.onUnavailable(new Error('down'));
    expect(t.counts).toMatchObject({ watchErrors: 1, retries: 1, unavailable: 1 });
    expect(warnings.map(([, m]) => m)).toEqual(['store watch listener threw', 'Fake operation failed, retrying']);
    expect(warnings[1]![0]).toMatchObject({ attempt: 1, table: 't1' });
  });
});

describe('ServerStoreCore', () => {
  it('checks its options as ConfigError naming the key', () => {
    expect(() => new ServerStoreCore(kind, { maxKeyLength: 0 })).toThrow(expect.objectContaining({ name: 'ConfigError', key: 'maxKeyLength' }));
    expect(() => new ServerStoreCore(kind, { maxValueBytes: -1 })).toThrow(expect.objectContaining({ key: 'maxValueBytes' }));
    expect(() => new ServerStoreCore(kind, { retry: { attempts: 0 } })).toThrow(expect.objectContaining({ key: 'retry.attempts' }));
    expect(new ServerStoreCore(kind, {}).maxValueBytes).toBe(64);
  });

  it('new → started → stopped: operations only when started, no restart after stop', () => {
    const c = new ServerStoreCore(kind, {});
    expect(() => c.checkStarted()).toThrow(expect.objectContaining({ name: 'NotStartedError', message: 'FakeStore is not started' }));
    expect(c.beginStart()).toBe(true);
    c.started();
    expect(c.beginStart()).toBe(false);
    c.checkStarted();
    expect(c.stop()).toBe(true);
    expect(c.stop()).toBe(false);
    expect(() => c.checkStarted()).toThrow(expect.objectContaining({ message: 'FakeStore is stopped' }));
    expect(() => c.beginStart()).toThrow(expect.objectContaining({ name: 'NotStartedError' }));
  });

  it('retries transient errors within the policy, then ERR_STORE_UNAVAILABLE; wraps foreign errors, keeps Converge ones', async () => {
    const c = new ServerStoreCore(kind, { retry: { attempts: 3, baseDelayMs: 0, maxDelayMs: 0 } });
    let calls = 0;
    const err = await c
      .retry('get', 'k', async () => {
        calls++;
        throw new Error('down');
      })
      .catch((e: unknown) => e);
    expect(calls).toBe(3);
    expect(err).toMatchObject({ name: 'StoreError', code: 'ERR_STORE_UNAVAILABLE', key: 'k' });
    expect(c.telemetry.counts).toMatchObject({ retries: 2, unavailable: 1 });
    expect(c.wrap(new Error('syntax'), 'put', 'k')).toMatchObject({ name: 'StoreError', message: 'Fake put failed: syntax', key: 'k' });
    const own = new StoreError('mine');
    expect(c.wrap(own, 'put', 'k')).toBe(own);
  });

  it('keys and values within the limits; a corrupt record is counted', () => {
    const c = new ServerStoreCore(kind, { maxKeyLength: 4 });
    expect(() => c.key('toolong')).toThrow();
    expect(() => c.encode('k', 'x'.repeat(100))).toThrow();
    const v = c.encode('k', { a: 1 });
    expect(c.read('k', { value: v.bytes, revision: '3', floats: v.floats ?? null })).toEqual({ value: { a: 1 }, revision: 3 });
    expect(() => c.read('k', { value: new Uint8Array([0xc1]), revision: '3', floats: null })).toThrow(expect.objectContaining({ code: 'ERR_STORE_CORRUPT' }));
    expect(c.telemetry.counts.corrupt).toBe(1);
  });
});
