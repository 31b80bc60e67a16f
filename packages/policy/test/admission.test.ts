import { createHash, timingSafeEqual as realTimingSafeEqual } from 'node:crypto';
import { describe, expect, it, vi, beforeEach } from 'vitest';
import { ConfigError, createPool } from '@converge/core';
import {
  OpenAdmission,
  WhitelistAdmission,
  TokenAdmission,
  admissionFromSpec,
  secretMatchesDigest,
  MAX_ADMISSION_TOKEN_BYTES,
  type AdmissionPolicy,
} from '@converge/policy';

// Wrap the real timingSafeEqual so the tests can see how the comparison is made.
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});

const pool = createPool({ id: 'p1' });
const sha256hex = (s: string): string => createHash('sha256').update(s).digest('hex');

describe('OpenAdmission', () => {
  it('admits anyone', () => {
    expect(new OpenAdmission().admit()).toBe(true);
  });
});

describe('WhitelistAdmission', () => {
  it('admits listed agents only', () => {
    const w = new WhitelistAdmission(['a', 'b']);
    expect(w.admit('a')).toBe(true);
    expect(w.admit('b')).toBe(true);
    expect(w.admit('c')).toBe(false);
  });
  it('an empty list admits nobody', () => {
    expect(new WhitelistAdmission([]).admit('a')).toBe(false);
  });
  it('rejects a list of non-strings', () => {
    expect(() => new WhitelistAdmission([1 as unknown as string])).toThrow(ConfigError);
  });
});

describe('TokenAdmission', () => {
  const mocked = vi.mocked(realTimingSafeEqual);
  beforeEach(() => {
    mocked.mockClear();
  });

  it('admits the right token and refuses wrong ones of the same and of other lengths', () => {
    const t = new TokenAdmission({ token: 's3cret-token' });
    expect(t.admit('a', { token: 's3cret-token' })).toBe(true);
    expect(t.admit('a', { token: 's3cret-tokeX' })).toBe(false);
    expect(t.admit('a', { token: 's3cret' })).toBe(false);
    expect(t.admit('a', { token: 's3cret-token-and-more' })).toBe(false);
  });

  it('refuses a missing, empty, non-string or oversized token', () => {
    const t = new TokenAdmission({ token: 'x' });
    expect(t.admit('a', undefined)).toBe(false);
    expect(t.admit('a', {})).toBe(false);
    expect(t.admit('a', { token: '' })).toBe(false);
    expect(t.admit('a', { token: 42 })).toBe(false);
    expect(t.admit('a', { token: 'x'.repeat(MAX_ADMISSION_TOKEN_BYTES + 1) })).toBe(false);
  });

  it('accepts the token as bytes in the join context', () => {
    const t = new TokenAdmission({ token: 'abc' });
    expect(t.admit('a', { token: new TextEncoder().encode('abc') })).toBe(true);
  });

  it('works from a SHA-256 digest (hex or bytes) without the plaintext', () => {
    const hex = sha256hex('hunter2');
    expect(new TokenAdmission({ tokenSha256: hex }).admit('a', { token: 'hunter2' })).toBe(true);
    expect(new TokenAdmission({ tokenSha256: hex.toUpperCase() }).admit('a', { token: 'hunter2' })).toBe(true);
    const bytes = new Uint8Array(Buffer.from(hex, 'hex'));
    expect(new TokenAdmission({ tokenSha256: bytes }).admit('a', { token: 'hunter2' })).toBe(true);
    expect(new TokenAdmission({ tokenSha256: hex }).admit('a', { token: 'hunter3' })).toBe(false);
  });

  it('compares with timingSafeEqual on two 32-byte digests, whatever the token length', () => {
    const t = new TokenAdmission({ token: 'right' });
    for (const token of ['right', 'wrong', 'a', 'a much longer wrong token than the right one']) {
      mocked.mockClear();
      t.admit('a', { token });
      expect(mocked).toHaveBeenCalledTimes(1);
      const [x, y] = mocked.mock.calls[0];
      expect((x as Uint8Array).length).toBe(32);
      expect((y as Uint8Array).length).toBe(32);
    }
  });

  it('secretMatchesDigest refuses a digest of the wrong size without comparing', () => {
    expect(secretMatchesDigest('a', new Uint8Array(31))).toBe(false);
    expect(mocked).not.toHaveBeenCalled();
  });

  it('refuses bad configuration', () => {
    expect(() => new TokenAdmission({ token: '' })).toThrow(ConfigError);
    expect(() => new TokenAdmission({ tokenSha256: 'abc' })).toThrow(ConfigError);
    expect(() => new TokenAdmission({ tokenSha256: new Uint8Array(16) })).toThrow(ConfigError);
    expect(() => new TokenAdmission({} as never)).toThrow(ConfigError);
  });
});

describe('admissionFromSpec', () => {
  const admit = (p: AdmissionPolicy, agent: string, ctx?: Record<string, unknown>) => p.admit(agent, ctx, pool);

  it('builds each built-in type', async () => {
    expect(await admit(admissionFromSpec({ type: 'open' }), 'z')).toBe(true);
    const w = admissionFromSpec({ type: 'whitelist', agents: ['a'] });
    expect(await admit(w, 'a')).toBe(true);
    expect(await admit(w, 'b')).toBe(false);
    const byHash = admissionFromSpec({ type: 'token', tokenHash: sha256hex('t0k') });
    expect(await admit(byHash, 'a', { token: 't0k' })).toBe(true);
    expect(await admit(byHash, 'a', { token: 't0K' })).toBe(false);
    const byToken = admissionFromSpec({ type: 'token', token: 't0k' });
    expect(await admit(byToken, 'a', { token: 't0k' })).toBe(true);
    expect(await admit(byToken, 'a', { token: 'nope' })).toBe(false);
    // 'ask': the pool's governance decides (the PoolManager opens an admit question).
    expect(await admit(admissionFromSpec({ type: 'ask' }), 'z')).toBe('ask');
  });

  it('treats a missing spec as open', () => {
    expect(admissionFromSpec(undefined)).toBeInstanceOf(OpenAdmission);
  });

  it('throws ConfigError on an unknown type or bad settings', () => {
    expect(() => admissionFromSpec({ type: 'magic' })).toThrow(ConfigError);
    expect(() => admissionFromSpec({ type: 'whitelist' })).toThrow(ConfigError);
    expect(() => admissionFromSpec({ type: 'whitelist', agents: 'a' })).toThrow(ConfigError);
    expect(() => admissionFromSpec({ type: 'token' })).toThrow(ConfigError);
    expect(() => admissionFromSpec({ type: 'token', tokenHash: 12 })).toThrow(ConfigError);
    expect(() => admissionFromSpec({ type: 7 } as never)).toThrow(ConfigError);
    try {
      admissionFromSpec({ type: 'magic' });
    } catch (err) {
      expect((err as ConfigError).code).toBe('ERR_CONFIG');
      expect((err as ConfigError).key).toBe('type');
    }
  });

  it('uses caller-supplied factories for extra types', async () => {
    const p = admissionFromSpec({ type: 'even', n: 2 }, { factories: { even: (spec) => ({ admit: (id) => id.length % (spec.n as number) === 0 }) } });
    expect(await admit(p, 'ab')).toBe(true);
    expect(await admit(p, 'abc')).toBe(false);
  });
});
