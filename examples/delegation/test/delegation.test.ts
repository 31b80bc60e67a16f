import { describe, expect, it } from 'vitest';
import { expectPrinted, runExample } from '../../../test/support/run-example.js';

describe('examples/delegation', () => {
  it('runs as a program: scopes narrow along the chain, refusals typed, revocation cascades, expiry lapses, exit 0', async () => {
    const { stdout, lines } = await runExample(import.meta.url);
    expect(stdout).not.toContain('UNEXPECTED');
    // What bob and carol may do, in order: start, delegated, revoked, 10 min into the temporary grant, expired.
    expect(lines.filter((l) => l.startsWith('  bob ')).map((l) => l.split('may: ')[1])).toEqual(['- - -', 'read write -', '- - -', '- - deploy', '- - -']);
    expect(lines.filter((l) => l.startsWith('  carol ')).map((l) => l.split('may: ')[1])).toEqual(['- - -', 'read - -', '- - -', '- - deploy', '- - -']);
    expect(lines.filter((l) => l.startsWith('  alice ')).every((l) => l.endsWith('may: read write deploy'))).toBe(true);
    expectPrinted(stdout, [
      'bob -> carol: deploy (bob does not hold it): refused (PolicyError ERR_POLICY)',
      "bob revokes alice's grant to him: refused (PolicyError ERR_POLICY)",
      "alice revokes her grant to bob: 2 delegations revoked (cascade: carol's included)",
      'bob -> carol: deploy again (his grant expired): refused (PolicyError ERR_POLICY)',
      'protocol: 4 delegated, 2 revoked, 4 refused',
    ]);
    expect(lines.at(-1)).toBe('summary: OK');
  });
});
