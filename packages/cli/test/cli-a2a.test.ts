// `converge run --a2a 0`: the run serves its pool as an A2A agent, prints its address when
// ready, completes an A2A request sent by the official SDK client (its built-in workers sum the
// numbers), refuses one without the token, and stays up until SIGINT (exit 0).
import { describe, expect, it } from 'vitest';
import { TaskState, type Message } from '@a2a-js/sdk';
import { dataPart, userMessage } from '@converge/a2a';
import { ClientFactory } from '@a2a-js/sdk/client';
import { Identity, createTopic } from '@converge/core';
import { PoolManager, TaskManager } from '@converge/coordination';
import { MemoryStore } from '@converge/extensions/storage';
import { serveA2A } from '../src/a2a-serve.js';
import { runCli } from './run-cli.js';

const TOKEN = 'cli-a2a-token-0123456789';

function message(numbers: number[]): Message {
  return userMessage([dataPart({ numbers })]);
}

describe('converge run --a2a 0', () => {
  it("serves the pool over A2A until SIGINT; a sent message completes with the workers' sum", async () => {
    let outcome: Promise<{ state: TaskState | undefined; result: unknown; unauthorized: boolean }> | undefined;
    const result = await runCli(['run', '--a2a', '0', '--a2a-token', TOKEN, '--tasks', '0', '--agents', '2', '--no-progress'], {
      timeoutMs: 60_000,
      onStderr: (text, child) => {
        const m = /a2a: (http:\/\/127\.0\.0\.1:\d+\/)\n/.exec(text);
        if (!m || outcome) return;
        outcome = (async () => {
          const client = await new ClientFactory().createFromUrl(m[1]!);
          const request = (msg: Message) => ({
            tenant: '',
            message: msg,
            configuration: { acceptedOutputModes: [], taskPushNotificationConfig: undefined, returnImmediately: false },
            metadata: {},
          });
          let unauthorized = false;
          try {
            await client.sendMessage(request(message([1])));
          } catch {
            unauthorized = true;
          }
          const task = (await client.sendMessage(request(message([20, 22])), { serviceParameters: { authorization: `Bearer ${TOKEN}` } })) as {
            status?: { state: TaskState };
            artifacts: { parts: { content?: { value: unknown } }[] }[];
          };
          return { state: task.status?.state, result: task.artifacts[0]?.parts[0]?.content?.value, unauthorized };
        })().finally(() => child.kill('SIGINT'));
      },
    });
    expect(outcome, `no "a2a:" line on stderr:\n${result.stderr}`).toBeDefined();
    const seen = await outcome!;
    expect(seen).toEqual({ state: TaskState.TASK_STATE_COMPLETED, result: 42, unauthorized: true });
    expect(result.code, result.stderr).toBe(0);
  });

  it("publishes a task the run's workers finish through their own task manager at once, from that manager's watchPool (re-reads a minute apart)", async () => {
    const store = new MemoryStore();
    const pools = new PoolManager({ store });
    const owner = Identity.generate();
    const worker = Identity.generate();
    await pools.createPool({ id: 'p', topics: [createTopic('math')], owner: owner.fingerprint });
    await pools.joinPool(worker.fingerprint, 'p');
    // The workers of a run write through a TaskManager of their own: the endpoint's queue watch sees none of it.
    const manager = new TaskManager({ store, pools });
    const endpoint = await serveA2A({
      port: 0,
      store,
      pools,
      poolId: 'p',
      identity: owner,
      tasks: manager,
      stderr: { write: () => true } as never,
      limits: { pollMs: 60_000, resyncMs: 60_000 },
      onSubmit: () => {
        void (async () => {
          const [task] = await manager.listPendingTasks();
          const lease = await manager.claim(worker.fingerprint, task!.id);
          await manager.report(worker.fingerprint, task!.id, 7, lease);
        })();
      },
    });
    try {
      const client = await new ClientFactory().createFromUrl(endpoint.server.url);
      const task = (await client.sendMessage({
        tenant: '',
        message: message([3, 4]),
        configuration: { acceptedOutputModes: [], taskPushNotificationConfig: undefined, returnImmediately: false },
        metadata: {},
      })) as { status?: { state: TaskState }; artifacts: { parts: { content?: { value: unknown } }[] }[] };
      expect(task.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
      expect(task.artifacts[0]?.parts[0]?.content?.value).toBe(7);
    } finally {
      manager.stop();
      await endpoint.close();
    }
  });
});
