// A coordinator and three workers, each in its own AgentRuntime on one LocalHub, share a
// TaskManager and a PoolManager over one MemoryStore. The coordinator submits 100 tasks
// ("square n") to the pool with SubmitTask decisions; the workers join the pool, claim tasks
// (exactly once: a claim is a compare-and-set on the store), compute and report them, and tell
// the coordinator with a signed message. The coordinator checks every result twice: in the
// messages it received (verified) and in the task records. Exit code 0 when all 100 tasks
// were completed exactly once with correct results; 1 otherwise.
import { setTimeout as delay } from 'node:timers/promises';
import { Agent, Decisions, type Decision, type Message, type Task } from '@converge/core';
import { PoolManager, TaskManager, type TaskRecord } from '@converge/coordination';
import { MemoryStore } from '@converge/extensions/storage';
import { IdentityRegistry, LocalHub, LocalTransport, MessageVerifier } from '@converge/network';
import { AgentRuntime, StandardExecutor } from '@converge/runtime';

const TASKS = 100;
const POOL = 'squares';

interface Done {
  taskId: string;
  n: number;
  square: number;
}

/** Submits the work on its first turn, then collects the workers' reports. */
class Coordinator extends Agent {
  readonly taskIds: string[] = [];
  readonly reports = new Map<string, { from: string; done: Done }>();
  duplicates = 0;
  #submitted = false;
  #allIn!: () => void;
  readonly allIn = new Promise<void>((resolve) => (this.#allIn = resolve));

  decide(messages: readonly Message[]): Decision[] {
    for (const m of messages) {
      const done = m.payload as unknown as Done;
      if (this.reports.has(done.taskId)) this.duplicates++;
      this.reports.set(done.taskId, { from: m.sender, done });
    }
    if (this.reports.size === TASKS) this.#allIn();
    if (this.#submitted) return [];
    this.#submitted = true;
    const out: Decision[] = [];
    for (let n = 1; n <= TASKS; n++) {
      const id = `square-${String(n).padStart(3, '0')}`;
      this.taskIds.push(id);
      out.push(Decisions.submitTask({ id, objective: 'square a number', inputs: { n }, poolId: POOL, requiredCapabilities: ['square'] }));
    }
    return out;
  }
}

/** Joins the pool, then claims a few tasks per turn, squares their input and reports. */
class Worker extends Agent {
  #joined = false;
  constructor(
    readonly name: string,
    readonly coordinator: string,
  ) {
    super({ capabilities: ['square'] });
  }

  async decide(_messages: readonly Message[], tasks: readonly Task[]): Promise<Decision[]> {
    if (!this.#joined) {
      this.#joined = true;
      return [Decisions.joinPool(POOL)];
    }
    const out: Decision[] = [];
    // A few per turn, picked at random: workers that all went for the head of the list would
    // mostly collide (a lost claim is harmless, but wasted).
    for (const task of pickRandom(tasks, 3)) {
      const n = task.inputs.n as number;
      await delay(2); // stands in for real work
      // If the claim loses the race to another worker, the executor skips the decisions after
      // it that carry the same task id (the report and the message), so nothing is done twice.
      out.push(
        Decisions.claimTask(task.id),
        Decisions.reportTask(task.id, { square: n * n }),
        Decisions.sendMessage(this.coordinator, { taskId: task.id, n, square: n * n }, { taskId: task.id }),
      );
    }
    return out;
  }
}

function pickRandom<T>(items: readonly T[], k: number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy.slice(0, k);
}

/** The coordinator and the workers, each in its runtime, sharing one store's pools and tasks. */
interface Team {
  coordinator: Coordinator;
  workers: Worker[];
  /** Agent id -> name, to print who did what. */
  names: Map<string, string>;
  verifier: MessageVerifier;
  taskManager: TaskManager;
  coordinatorRuntime: AgentRuntime;
  workerRuntimes: AgentRuntime[];
}

// Step 1: one store, one pool, the agents registered (so the coordinator can verify the workers'
// messages) and started, each in its own runtime.
async function startTeam(): Promise<Team> {
  const store = new MemoryStore();
  const poolManager = new PoolManager({ store });
  const taskManager = new TaskManager({ store });
  await poolManager.createPool({ id: POOL });

  const coordinator = new Coordinator();
  const workers = ['worker-1', 'worker-2', 'worker-3'].map((name) => new Worker(name, coordinator.id));
  const names = new Map<string, string>([[coordinator.id, 'coordinator'], ...workers.map((w) => [w.id, w.name] as [string, string])]);

  const registry = new IdentityRegistry();
  for (const a of [coordinator, ...workers]) registry.register(a.identity);
  const verifier = new MessageVerifier({ registry });

  const hub = new LocalHub();
  const runtime = (agent: Agent, withVerifier = false) =>
    new AgentRuntime({
      agent,
      transport: new LocalTransport(agent.id, { hub }),
      poolManager,
      taskManager,
      ...(withVerifier ? { verifier } : {}),
    });
  const coordinatorRuntime = runtime(coordinator, true);
  const workerRuntimes = workers.map((w) => runtime(w));

  await coordinatorRuntime.start();
  await Promise.all(workerRuntimes.map((r) => r.start()));
  return { coordinator, workers, names, verifier, taskManager, coordinatorRuntime, workerRuntimes };
}

// Step 2: wait until every report is in (or 20 s pass), then stop the runtimes. True on timeout.
async function waitAndStop(team: Team): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    team.coordinator.allIn.then(() => false),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), 20_000))),
  ]);
  clearTimeout(timer);
  await Promise.all(team.workerRuntimes.map((r) => r.stop()));
  await team.coordinatorRuntime.stop();
  return timedOut;
}

// Step 3: check every task: completed, by a worker, with the right square, and reported by that
// worker. Returns the tasks done per worker and how many were wrong.
async function checkTasks(team: Team): Promise<{ perWorker: Map<string, number>; bad: number }> {
  const perWorker = new Map(team.workers.map((w) => [w.name, 0]));
  let bad = 0;
  for (const id of team.coordinator.taskIds) {
    const rec: TaskRecord = await team.taskManager.getTask(id);
    const n = rec.inputs.n as number;
    const worker = team.names.get(rec.assignedTo ?? '');
    const report = team.coordinator.reports.get(id);
    const ok =
      rec.state === 'completed' &&
      rec.attempts === 1 &&
      worker !== undefined &&
      perWorker.has(worker) &&
      (rec.result as { square: number }).square === n * n &&
      report !== undefined &&
      report.from === rec.assignedTo &&
      report.done.square === n * n;
    if (ok) perWorker.set(worker!, perWorker.get(worker!)! + 1);
    else {
      bad++;
      console.log(`task ${id}: ${rec.state}, assigned to ${worker ?? 'nobody'}, result ${JSON.stringify(rec.result)} — WRONG`);
    }
  }
  return { perWorker, bad };
}

// Claims that did not succeed (another worker got there first), whatever outcome they were filed under.
function lostClaimRaces(workerRuntimes: readonly AgentRuntime[]): number {
  return workerRuntimes.reduce((sum, r) => {
    const byOutcome = Object.entries((r.executor as StandardExecutor).stats());
    return sum + byOutcome.filter(([k]) => k.startsWith('ClaimTask:') && k !== 'ClaimTask:ok').reduce((a, [, n]) => a + n, 0);
  }, 0);
}

async function main(): Promise<number> {
  const team = await startTeam();
  const { coordinator, verifier, taskManager } = team;
  console.log(`coordinator ${coordinator.id.slice(0, 8)} submits ${TASKS} tasks to pool "${POOL}"; workers: ${team.workers.map((w) => w.name).join(', ')}`);
  const timedOut = await waitAndStop(team);
  const { perWorker, bad } = await checkTasks(team);
  const lostRaces = lostClaimRaces(team.workerRuntimes);
  const stats = taskManager.stats();
  taskManager.stop();

  for (const [name, count] of perWorker) console.log(`${name}: ${count} tasks`);
  console.log(`claims won: ${stats.claims}, claim races lost (skipped safely): ${lostRaces}, completed: ${stats.completed}`);
  console.log(
    `reports received by the coordinator: ${coordinator.reports.size} (verified ${verifier.verified}, rejected ${team.coordinatorRuntime.rejectedMessages}, duplicates ${coordinator.duplicates})`,
  );
  const done = [...perWorker.values()].reduce((a, b) => a + b, 0);
  const ok =
    !timedOut &&
    bad === 0 &&
    done === TASKS &&
    stats.completed === TASKS &&
    stats.claims === TASKS &&
    verifier.verified === TASKS &&
    coordinator.duplicates === 0;
  console.log(`summary: ${done} of ${TASKS} tasks completed and checked, ${ok ? 'OK' : timedOut ? 'TIMED OUT' : 'FAILED'}`);
  return ok ? 0 : 1;
}

// A failure rejects: Node prints it and exits with code 1.
process.exitCode = await main();
