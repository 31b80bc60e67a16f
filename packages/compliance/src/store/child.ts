// Child process of the cross-process store suite: `child.ts <module> <options-json> cas <key> <n>`
// does n compareAndSet increments of one key; `... put <key>` writes one key. The store comes from
// `<module>`'s `createStore(options)`. Prints one JSON line and exits 0 (2 on any error).
import type { Store } from '@converge/core';

async function main(): Promise<void> {
  const [modulePath, optionsJson, mode, key, n] = process.argv.slice(2) as [string, string, string, string, string | undefined];
  const url = modulePath.startsWith('file:') ? modulePath : `file://${modulePath}`;
  const mod = (await import(url)) as { createStore(options: unknown): Store | Promise<Store> };
  const store = await mod.createStore(JSON.parse(optionsJson));
  await store.start?.();
  try {
    if (mode === 'cas') {
      let conflicts = 0;
      for (let i = 0; i < Number(n); i++) {
        for (;;) {
          const e = await store.getEntry<number>(key);
          if ((await store.compareAndSet(key, (e?.value ?? 0) + 1, e?.revision ?? 0)) !== null) break;
          conflicts++;
        }
      }
      process.stdout.write(`${JSON.stringify({ done: Number(n), conflicts })}\n`);
    } else if (mode === 'put') {
      const revision = await store.put(key, { from: process.pid });
      process.stdout.write(`${JSON.stringify({ revision })}\n`);
    } else throw new Error(`unknown mode ${mode}`);
  } finally {
    await store.stop?.();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${String((err as Error)?.stack ?? err)}\n`);
  process.exit(2);
});
