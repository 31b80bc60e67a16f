import { describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError, ToolRegistry, type Tool } from '@converge/core';

const echo: Tool = { name: 'echo', description: 'returns its params', run: (params) => params };

describe('ToolRegistry', () => {
  it('registers, finds, lists and removes tools', async () => {
    const r = new ToolRegistry([echo]);
    expect(r.has('echo')).toBe(true);
    expect(r.get('echo')).toBe(echo);
    expect(r.names()).toEqual(['echo']);
    expect(await r.require('echo').run({ a: 1 }, { signal: new AbortController().signal })).toEqual({ a: 1 });
    expect(r.unregister('echo')).toBe(true);
    expect(r.unregister('echo')).toBe(false);
    expect(r.get('echo')).toBeUndefined();
  });

  it('refuses a second tool of the same name with ConflictError', () => {
    const r = new ToolRegistry([echo]);
    expect(() => r.register({ ...echo })).toThrow(ConflictError);
  });

  it('require of an unknown tool is NotFoundError', () => {
    expect(() => new ToolRegistry().require('nope')).toThrow(NotFoundError);
  });

  it('registries are independent instances', () => {
    const a = new ToolRegistry([echo]);
    const b = new ToolRegistry();
    expect(a.has('echo')).toBe(true);
    expect(b.has('echo')).toBe(false);
  });
});
