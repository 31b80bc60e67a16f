// The compliance package's store helpers against a real store. This lives here, not in
// packages/compliance, so that compliance does not depend on extensions (extensions already
// runs compliance's suites; both directions would make a workspace cycle).
import { describe, expect, it } from 'vitest';
import { casIncrement } from '@converge/compliance/store';
import { MemoryStore } from '@converge/extensions/storage';

describe('store compliance helpers on MemoryStore', () => {
  it('casIncrement adds one per call and reports the revision it won', async () => {
    const store = new MemoryStore();
    const a = await casIncrement(store, 'n');
    const b = await casIncrement(store, 'n');
    expect(await store.getEntry('n')).toEqual({ value: 2, revision: b.revision });
    expect(b.revision).toBeGreaterThan(a.revision);
    expect(a.attempts).toBe(1);
  });
});
