import { describe, expect, it } from 'vitest';
import { KeyWatchers } from '../src/index.js';

describe('KeyWatchers', () => {
  it('a listener added while emitting hears the next key, not this one', () => {
    const w = new KeyWatchers();
    const heard: string[] = [];
    w.add('a', (k) => {
      heard.push(`1:${k}`);
      if (k === 'a1') w.add('a', (k2) => heard.push(`2:${k2}`));
    });
    w.emit('a1');
    w.emit('a2');
    expect(heard).toEqual(['1:a1', '1:a2', '2:a2']);
  });

  it('a listener removed goes unheard from the next emit on, also when removed while emitting', () => {
    const w = new KeyWatchers();
    const heard: string[] = [];
    let off2: () => void = () => {};
    w.add('', (k) => {
      heard.push(`1:${k}`);
      off2();
    });
    off2 = w.add('', (k) => heard.push(`2:${k}`));
    w.emit('x');
    w.emit('y');
    expect(heard).toEqual(['1:x', '2:x', '1:y']);
    off2(); // twice: a no-op
    expect(w.size).toBe(1);
    w.clear();
    w.emit('z');
    expect(heard).toEqual(['1:x', '2:x', '1:y']);
  });

  it('calls only listeners whose prefix matches, and counts a throwing one', () => {
    const errors: unknown[] = [];
    const w = new KeyWatchers((e) => errors.push(e));
    const heard: string[] = [];
    w.add('task:', (k) => heard.push(k));
    w.add('pool:', () => {
      throw new Error('boom');
    });
    w.emit('task:1');
    w.emit('pool:1');
    w.emit('other');
    expect(heard).toEqual(['task:1']);
    expect(w.failures).toBe(1);
    expect(errors).toHaveLength(1);
  });
});
