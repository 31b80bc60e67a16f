import { describe, expect, it } from 'vitest';
import { CapabilitySet, createCapability } from '@converge/core';

describe('createCapability', () => {
  it('fills defaults: version 1.0, empty description, constraints and costs', () => {
    expect(createCapability({ name: 'x' })).toEqual({ name: 'x', version: '1.0', description: '', constraints: {}, costs: {} });
    expect(createCapability({ name: 'x', version: '2', costs: { usd: 1 } })).toMatchObject({ version: '2', costs: { usd: 1 } });
  });
});

describe('CapabilitySet', () => {
  it('adds by name or object, answers has/hasAll/get, and lists names in insertion order', () => {
    const s = new CapabilitySet(['b', createCapability({ name: 'a', version: '2' })]);
    expect(s.size).toBe(2);
    expect(s.names()).toEqual(['b', 'a']);
    expect(s.has('a')).toBe(true);
    expect(s.has('c')).toBe(false);
    expect(s.hasAll(['a', 'b'])).toBe(true);
    expect(s.hasAll(['a', 'c'])).toBe(false);
    expect(s.hasAll([])).toBe(true);
    expect(s.get('a')!.version).toBe('2');
    expect(s.get('b')!.version).toBe('1.0');
  });

  it('replaces a capability of the same name and removes by name', () => {
    const s = new CapabilitySet().add('x').add(createCapability({ name: 'x', version: '3' }));
    expect(s.size).toBe(1);
    expect(s.get('x')!.version).toBe('3');
    expect(s.remove('x')).toBe(true);
    expect(s.remove('x')).toBe(false);
    expect(s.size).toBe(0);
  });

  it('iterates capabilities and serialises as plain data', () => {
    const s = new CapabilitySet(['a', 'b']);
    expect([...s].map((c) => c.name)).toEqual(['a', 'b']);
    expect(JSON.parse(JSON.stringify(s))).toEqual([createCapability({ name: 'a' }), createCapability({ name: 'b' })]);
  });
});
