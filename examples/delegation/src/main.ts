// Scoped delegation with DelegationProtocol. Alice holds deploy rights in her own right (a root
// scope); she delegates part of them to Bob, who re-delegates a subset to Carol. The example
// shows what each agent may do at each step: Carol is allowed what Bob gave her; Bob cannot
// hand on what he does not hold; only the delegator may revoke; revoking Alice's grant to Bob
// takes Carol's re-delegation with it (cascade); a grant with an expiry lapses, and with it
// everything delegated from it. A controllable clock stands in for time passing.
// Exit code 0 when every permission and refusal is as expected; 1 otherwise.
import { ConvergeError, Identity } from '@converge/core';
import { DelegationProtocol, type Delegation } from '@converge/coordination';

const ACTIONS = ['read', 'write', 'deploy'] as const;

// A controllable clock: the steps below move it forward.
let now = Date.UTC(2030, 0, 1, 12, 0, 0);
const protocol = new DelegationProtocol({ clock: () => now });
const [alice, bob, carol] = [Identity.generate(), Identity.generate(), Identity.generate()].map((i) => i.fingerprint) as [string, string, string];
const names = new Map([
  [alice, 'alice'],
  [bob, 'bob'],
  [carol, 'carol'],
]);
let failures = 0;

/** Prints what each agent may do and compares it with what we expect ("rw-" style). */
function scopes(when: string, expected: Record<string, string>): void {
  console.log(`${when}:`);
  for (const [id, name] of names) {
    const got = ACTIONS.map((a) => (protocol.isAllowed(id, a) ? a : '-')).join(' ');
    const want = ACTIONS.map((a, i) => (expected[name]![i] === '-' ? '-' : a)).join(' ');
    console.log(`  ${name.padEnd(5)} may: ${got}${got === want ? '' : `   UNEXPECTED, wanted ${want}`}`);
    if (got !== want) failures++;
  }
}

/** Runs `fn`, expecting a typed refusal; prints it. */
function refused(what: string, fn: () => unknown, code: string): void {
  let got = 'allowed';
  try {
    fn();
  } catch (err) {
    if (!(err instanceof ConvergeError)) throw err;
    got = `${err.name} ${err.code}`;
  }
  console.log(`${what}: ${got === 'allowed' ? 'allowed' : `refused (${got})`}${got === code ? '' : `   UNEXPECTED, wanted ${code}`}`);
  if (got !== code) failures++;
}

// Step 1: alice delegates read and write to bob, who re-delegates read to carol; nobody can
// hand on what they do not hold, and only the delegator may revoke.
function delegateDown(): { toBob: Delegation; toCarol: Delegation } {
  const toBob = protocol.delegate(alice, bob, { actions: ['read', 'write'] });
  console.log(`alice -> bob: ${toBob.actions.join(', ')} (delegation ${toBob.id.slice(0, 8)})`);
  const toCarol = protocol.delegate(bob, carol, { actions: ['read'] });
  console.log(
    `bob -> carol: ${toCarol.actions.join(', ')} (re-delegation ${toCarol.id.slice(0, 8)}, from ${toCarol.parents.map((p) => p.slice(0, 8)).join(', ')})`,
  );
  scopes('after the delegations', { alice: 'rwd', bob: 'rw-', carol: 'r--' });

  refused('bob -> carol: deploy (bob does not hold it)', () => protocol.delegate(bob, carol, { actions: ['deploy'] }), 'PolicyError ERR_POLICY');
  refused("bob revokes alice's grant to him", () => protocol.revoke(toBob.id, bob), 'PolicyError ERR_POLICY');
  refused("carol revokes bob's grant to her", () => protocol.revoke(toCarol.id, carol), 'PolicyError ERR_POLICY');
  return { toBob, toCarol };
}

// Step 2: revoking alice's grant to bob takes carol's re-delegation with it (cascade).
function revokeWithCascade(toBob: Delegation, toCarol: Delegation): void {
  const revoked = protocol.revoke(toBob.id, alice);
  console.log(
    `alice revokes her grant to bob: ${revoked.length} delegations revoked (cascade: ${revoked.includes(toCarol.id) ? "carol's included" : "carol's NOT included"})`,
  );
  if (revoked.length !== 2 || !revoked.includes(toCarol.id)) failures++;
  scopes('after the revocation', { alice: 'rwd', bob: '---', carol: '---' });
}

// Step 3: a grant for one hour, re-delegated; an hour later both have lapsed.
function expireAfterAnHour(): void {
  const hour = 60 * 60 * 1000;
  const temp = protocol.delegate(alice, bob, { actions: ['deploy'], expiresAt: now + hour });
  protocol.delegate(bob, carol, { actions: ['deploy'] });
  console.log(`alice -> bob: deploy until ${new Date(temp.expiresAt!).toISOString()}; bob -> carol: deploy`);
  now += 10 * 60 * 1000;
  scopes('ten minutes later', { alice: 'rwd', bob: '--d', carol: '--d' });
  now += hour;
  scopes('an hour later (expired)', { alice: 'rwd', bob: '---', carol: '---' });
  refused('bob -> carol: deploy again (his grant expired)', () => protocol.delegate(bob, carol, { actions: ['deploy'] }), 'PolicyError ERR_POLICY');
}

function main(): number {
  protocol.grantRoot(alice, [...ACTIONS]);
  scopes('at the start', { alice: 'rwd', bob: '---', carol: '---' });
  const { toBob, toCarol } = delegateDown();
  revokeWithCascade(toBob, toCarol);
  expireAfterAnHour();

  const s = protocol.stats();
  console.log(`protocol: ${s.delegated} delegated, ${s.revoked} revoked, ${s.refused} refused`);
  console.log(`summary: ${failures === 0 ? 'OK' : `${failures} FAILED`}`);
  return failures === 0 ? 0 : 1;
}

try {
  process.exitCode = main();
} catch (err) {
  console.error(err);
  process.exitCode = 1;
}
