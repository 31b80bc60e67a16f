// backendStoresPerTest over a backend: the server is checked before all tests, `sharing` puts
// its stores on one new namespace, and every namespace used is dropped once after the test.
import { describe, expect, it } from 'vitest';
import type { Store } from '@converge/core';
import { backendStoresPerTest, type StoreBackend } from '@converge/compliance/store';

type FakeStore = Store & { namespace: string; options: unknown; stopped: boolean; stop(): Promise<void> };

const events: string[] = [];
let n = 0;
const backend: StoreBackend<FakeStore, { tag: string }> = {
  name: 'FakeStore',
  unique: () => `ns${n++}`,
  make: (namespace, options) => {
    const store = { namespace, options, stopped: false, stop: async () => void (store.stopped = true) };
    return store as unknown as FakeStore;
  },
  drop: async (namespace) => void events.push(`drop ${namespace}`),
  ready: async () => void events.push('ready'),
};
const fresh = backendStoresPerTest(backend);
const made: FakeStore[] = [];

describe('backendStoresPerTest', () => {
  it('ran backend.ready before the first test', () => {
    expect(events).toEqual(['ready']);
  });

  it('sharing() makes one store per options object, all on one new namespace', () => {
    made.push(fresh({ tag: 'own' }), ...fresh.sharing({ tag: 'a' }, undefined, { tag: 'c' }));
    expect(made.map((s) => s.namespace)).toEqual(['ns0', 'ns1', 'ns1', 'ns1']);
    expect(made.map((s) => s.options)).toEqual([{ tag: 'own' }, { tag: 'a' }, undefined, { tag: 'c' }]);
  });

  it('stopped them all after that test and dropped each namespace once', () => {
    expect(made.every((s) => s.stopped)).toBe(true);
    expect(events).toEqual(['ready', 'drop ns0', 'drop ns1']);
  });
});
