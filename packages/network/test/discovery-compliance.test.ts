// DiscoveryService passes the shared discovery compliance suite: in memory, and backed by a
// store (MemoryStore shared by two instances; FileStore in a fresh directory), where a second
// instance over the same store must reload the live registrations.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { discoveryComplianceTests } from '@converge/compliance/discovery';
import { FileStore, MemoryStore } from '@converge/extensions/storage';
import { DiscoveryService } from '../src/index.js';

discoveryComplianceTests({
  name: 'DiscoveryService (in memory)',
  create: async ({ clock, ttlMs, maxAgents }) => ({ discovery: new DiscoveryService({ clock, ttlMs, maxAgents }) }),
});

discoveryComplianceTests({
  name: 'DiscoveryService (MemoryStore)',
  create: async ({ clock, ttlMs, maxAgents }) => {
    const store = new MemoryStore();
    const open = async () => new DiscoveryService({ store, clock, ttlMs, maxAgents });
    return { discovery: await open(), reopen: open };
  },
});

discoveryComplianceTests({
  name: 'DiscoveryService (FileStore)',
  create: async ({ clock, ttlMs, maxAgents }) => {
    const dir = await mkdtemp(join(tmpdir(), 'converge-discovery-'));
    const stores: FileStore[] = [];
    const open = async () => {
      const store = new FileStore({ dir });
      stores.push(store);
      return new DiscoveryService({ store, clock, ttlMs, maxAgents });
    };
    return {
      discovery: await open(),
      reopen: open,
      teardown: async () => {
        for (const s of stores) await s.stop?.();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
});
