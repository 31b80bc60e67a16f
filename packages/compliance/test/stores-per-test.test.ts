// storesPerTest: what a store adapter's test file relies on to leave no store running and nothing
// on the server. The tests run in order: the second checks what the first left behind.
import { describe, expect, it } from 'vitest';
import { storesPerTest } from '@converge/compliance/store';

class FakeStore {
  stopped = false;
  constructor(readonly name: string) {}
  async stop(): Promise<void> {
    this.stopped = true;
  }
}

const cleaned: string[][] = [];
const fresh = storesPerTest(
  (name: string) => new FakeStore(name),
  async (stores) => {
    expect(stores.every((s) => s.stopped)).toBe(true);
    cleaned.push(stores.map((s) => s.name));
  },
);
const first: FakeStore[] = [];

describe('storesPerTest', () => {
  it('hands out the stores make() returns', () => {
    first.push(fresh('a'), fresh('b'), fresh.track(new FakeStore('tracked')));
    expect(first.map((s) => s.name)).toEqual(['a', 'b', 'tracked']);
    expect(first.some((s) => s.stopped)).toBe(false);
  });

  it('stopped every store of the previous test, then cleaned them up once, tracked ones included', () => {
    expect(first.every((s) => s.stopped)).toBe(true);
    expect(cleaned).toEqual([['a', 'b', 'tracked']]);
  });

  it('forgets the stores it cleaned (a test that makes none cleans up an empty list)', () => {
    expect(cleaned).toEqual([['a', 'b', 'tracked'], []]);
  });
});
