import { FINAL_JOB_STATUSES, type FinalJobStatus, type JobStatus } from '@oddjob/core';
import type { Command } from 'commander';
import { withStore } from '../context.js';
import { CliError } from '../errors.js';
import { confirm, iso, progress } from '../output.js';
import type { CliStore } from '../store.js';
import {
  describeFilter,
  filterOf,
  intOption,
  listAll,
  hasFilter,
  parseStatuses,
  withFilters,
  type FilterOpts,
} from './job-filters.js';

/** At most this many jobs are changed by one filter-driven retry/cancel (they are listed first). */
const MAX_BULK = 100_000;

/** Where a confirmation question says the change goes, when the stores are named. */
const where = (tenant: string | undefined): string => (tenant === undefined ? '' : ` in tenant ${tenant}`);

/** `jobs retry`, `jobs cancel`, `jobs purge`: changes, so one store each (--tenant with several). */
export function registerJobChanges(jobs: Command): void {
  bulkCommand(
    jobs,
    'retry',
    'put final jobs (done, failed, cancelled) back to new',
    ['failed'],
    FINAL_JOB_STATUSES,
    (s, id) => s.admin.requeueJob(id),
  );
  bulkCommand(
    jobs,
    'cancel',
    'cancel jobs that have not finished (waiting, new, retry, processing)',
    // Not processing by default: a running job is not interrupted, only its result refused.
    ['waiting', 'new', 'retry'],
    ['waiting', 'new', 'retry', 'processing'],
    (s, id) => s.admin.cancelJob(id),
  );

  jobs
    .command('purge')
    .description('delete final jobs (done, failed, cancelled) by filter; frees their unique keys')
    .option('--status <list>', 'final statuses to delete (default done)')
    .option('--queue <name>', 'only this queue')
    .option('--older-than <ms>', 'only jobs finished more than this many milliseconds ago')
    .option('-y, --yes', 'do not ask for confirmation')
    .action(async (o: { status?: string; queue?: string; olderThan?: string; yes?: boolean }, cmd: Command) => {
      const statuses = (parseStatuses(o.status, FINAL_JOB_STATUSES) ?? ['done']) as FinalJobStatus[];
      const olderThan = o.olderThan === undefined ? undefined : intOption('--older-than', o.olderThan, 0);
      const finishedBefore = olderThan === undefined ? undefined : new Date(Date.now() - olderThan);
      await withStore(cmd, async (store, tenant) => {
        const counts = await store.admin.countJobs({ queue: o.queue });
        const upTo = counts
          .filter((c) => (statuses as JobStatus[]).includes(c.status))
          .reduce((n, c) => n + c.count, 0);
        if (upTo === 0) {
          process.stdout.write('nothing to purge\n');
          return;
        }
        const what = `purge up to ${upTo} jobs (status ${statuses.join(',')}${o.queue ? `, queue ${o.queue}` : ''}${finishedBefore ? `, finished before ${iso(finishedBefore)}` : ''})`;
        await confirm(`${what}${where(tenant)}?`, o.yes === true);
        // One status at a time, so a long purge shows where it is.
        const bar = progress('purging', upTo);
        let purged = 0;
        for (const status of statuses) {
          const n = await store.admin.purgeJobs({ statuses: [status], queue: o.queue, finishedBefore });
          purged += n;
          bar.tick(counts.filter((c) => c.status === status).reduce((s, c) => s + c.count, 0));
        }
        bar.done();
        process.stdout.write(`purged ${purged} jobs\n`);
      });
    });
}

function bulkCommand(
  jobs: Command,
  name: 'retry' | 'cancel',
  description: string,
  defaultStatuses: JobStatus[],
  allowed: readonly JobStatus[],
  apply: (store: CliStore, id: string) => Promise<boolean>,
): void {
  withFilters(
    jobs
      .command(name)
      .description(`${description}: by id, or every job matching the filters`)
      .argument('[ids...]', 'job ids (or use the filters)'),
  )
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--max <n>', `change at most this many (default ${MAX_BULK})`)
    .action(async (ids: string[], o: FilterOpts & { yes?: boolean; max?: string }, cmd: Command) => {
      const filtered = hasFilter(o);
      if (ids.length > 0 && filtered) throw new CliError(`${name}: give job ids or filters, not both`);
      if (ids.length === 0 && !filtered)
        throw new CliError(
          `${name}: give job ids, or filters (--status, --queue, --target, --sequence, --run) to ${name} every matching job`,
        );
      await withStore(cmd, async (store, tenant) => {
        let targets = ids;
        if (ids.length === 0) {
          const filter = filterOf(o, defaultStatuses, allowed);
          targets = (await listAll(store, filter, intOption('--max', o.max, MAX_BULK, 1))).map((j) => j.id);
          if (targets.length === 0) {
            process.stdout.write(`no jobs match (${describeFilter(filter)})\n`);
            return;
          }
          await confirm(`${name} ${targets.length} jobs${where(tenant)} (${describeFilter(filter)})?`, o.yes === true);
        } else if (ids.length > 1) {
          await confirm(`${name} ${ids.length} jobs${where(tenant)}?`, o.yes === true);
        }
        const bar = targets.length > 1 ? progress(name, targets.length) : undefined;
        let changed = 0;
        const skipped: string[] = [];
        for (const id of targets) {
          if (await apply(store, id)) changed++;
          else skipped.push(id);
          bar?.tick();
        }
        bar?.done();
        const verb = name === 'retry' ? 'requeued' : 'cancelled';
        process.stdout.write(`${verb} ${changed} of ${targets.length} jobs\n`);
        if (skipped.length > 0) {
          const state = name === 'retry' ? 'unknown or not final' : 'unknown or already final';
          process.stderr.write(
            `not ${verb} (${state}): ${skipped.slice(0, 10).join(', ')}${skipped.length > 10 ? ', ...' : ''}\n`,
          );
          if (changed === 0) throw new CliError(`nothing ${verb}`);
        }
      });
    });
}
