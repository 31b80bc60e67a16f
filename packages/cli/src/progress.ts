import cliProgress from 'cli-progress';

/** Shows progress: a bar on a TTY (cli-progress), a log line per interval otherwise. */
export interface Progress {
  update(done: number, total: number | undefined): void;
  stop(): void;
}

/** Creates the progress display for `stream` (stderr, so stdout stays clean for `--json`). */
export function createProgress(stream: NodeJS.WriteStream, options: { tty: boolean; intervalMs?: number; quiet?: boolean }): Progress {
  if (options.quiet) return { update() {}, stop() {} };
  if (options.tty) {
    const bar = new cliProgress.SingleBar(
      { stream, format: 'tasks [{bar}] {percentage}% | {value}/{total} | {rate} tasks/s | {duration_formatted}', hideCursor: true, clearOnComplete: false },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    const t0 = Date.now();
    return {
      update(done, total) {
        const rate = Math.round(done / Math.max(0.001, (Date.now() - t0) / 1000));
        if (!started) {
          bar.start(total ?? done, done, { rate });
          started = true;
        }
        if (total !== undefined) bar.setTotal(total);
        bar.update(done, { rate });
      },
      stop() {
        if (started) bar.stop();
      },
    };
  }
  const every = options.intervalMs ?? 1_000;
  let last = 0;
  const t0 = Date.now();
  return {
    update(done, total) {
      const now = Date.now();
      if (now - last < every) return;
      last = now;
      const rate = done / Math.max(0.001, (now - t0) / 1000);
      const pct = total ? ` (${((100 * done) / total).toFixed(1)}%)` : '';
      stream.write(`progress: ${done}${total !== undefined ? `/${total}` : ''} tasks${pct}, ${rate.toFixed(0)} tasks/s\n`);
    },
    stop() {},
  };
}
