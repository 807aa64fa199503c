import { JOB_STATUSES, type JobCount } from '@oddjob/core';
import type { Command } from 'commander';
import { inTenant, selectionOf, withTargets, type PerTenant } from '../context.js';
import { CliError } from '../errors.js';
import { table } from '../output.js';

/** Counts per queue and status; with `across`, per tenant and queue, a TENANT column first. */
export function countsTable(groups: readonly PerTenant<readonly JobCount[]>[], across: boolean): string {
  const rows = groups.flatMap(({ tenant, value: counts }) => {
    const queues = [...new Set(counts.map((c) => c.queue))].sort();
    const cells = queues.map((q) => [
      q,
      ...JOB_STATUSES.map((s) => String(counts.find((c) => c.queue === q && c.status === s)?.count ?? 0)),
    ]);
    return across ? cells.map((c) => [tenant ?? '-', ...c]) : cells;
  });
  const headers = [...(across ? ['TENANT'] : []), 'QUEUE', ...JOB_STATUSES.map((s) => s.toUpperCase())];
  return table(headers, rows.length > 0 ? rows : [['(no jobs)']]);
}

export function registerWatch(jobs: Command): void {
  jobs
    .command('watch')
    .description('live counts per queue and status, redrawn in place until Ctrl-C')
    .option('--interval-ms <ms>', 'refresh interval (default 1000)')
    .option('--queue <name>', 'only this queue')
    .option('--once', 'print the counts once and exit')
    .action(async (o: { intervalMs?: string; queue?: string; once?: boolean }, cmd: Command) => {
      const interval = o.intervalMs === undefined ? 1000 : Number(o.intervalMs);
      if (!Number.isInteger(interval) || interval < 100)
        throw new CliError(`--interval-ms ${JSON.stringify(o.intervalMs)}: must be an integer >= 100`);
      const { targets, across } = selectionOf(cmd);
      // The stores stay open between frames; withTargets closes them when Ctrl-C ends the loop.
      await withTargets(targets, async (open) => {
        const counts = (t: (typeof open)[number]) =>
          t.store.admin.countJobs({ queue: o.queue }).then(
            (value) => ({ tenant: t.tenant, value }),
            (err: unknown) => Promise.reject(inTenant(t.tenant, err)),
          );
        const render = async (): Promise<string> =>
          `${new Date().toISOString()}\n${countsTable(await Promise.all(open.map(counts)), across)}`;
        if (o.once) {
          process.stdout.write(await render());
          return;
        }
        const tty = process.stdout.isTTY === true;
        let stop = false;
        const stopped = new Promise<void>((resolve) => {
          process.once('SIGINT', () => {
            stop = true;
            resolve();
          });
        });
        while (!stop) {
          const text = await render();
          // Clear the screen and draw from the top on a terminal; on a pipe, append frames.
          process.stdout.write(tty ? `\x1b[H\x1b[2J${text}` : `${text}\n`);
          await Promise.race([new Promise((r) => setTimeout(r, interval)), stopped]);
        }
      });
    });
}
