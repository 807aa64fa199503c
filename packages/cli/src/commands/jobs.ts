import type { JobFilter, JobRecord } from '@oddjob/core';
import { Command } from 'commander';
import { withStores } from '../context.js';
import { CliError } from '../errors.js';
import { iso, json } from '../output.js';
import type { CliStore } from '../store.js';
import { tagged, tenantTable } from '../tenant-output.js';
import { showJob, statusText } from './job-view.js';
import { describeFilter, filterOf, intOption, PAGE, withFilters, type FilterOpts } from './job-filters.js';
import { registerJobChanges } from './jobs-change.js';
import { registerWatch } from './watch.js';

/** No store can search text: scan pages here, like the dashboard does, and say when the scan was cut short. */
const TEXT_SCAN = 10_000;
async function searchText(store: CliStore, filter: JobFilter, text: string, tenant?: string): Promise<JobRecord[]> {
  const needle = text.toLowerCase();
  const limit = filter.limit ?? 50;
  const found: JobRecord[] = [];
  let scanned = 0;
  // The first page honours --after and --offset; later pages start after the last id read.
  let page = { ...filter, limit: PAGE };
  let lastId: string | undefined;
  while (scanned < TEXT_SCAN && found.length < limit) {
    const rows = await store.admin.listJobs(page);
    scanned += rows.length;
    for (const j of rows) {
      lastId = j.id;
      const hay = [j.id, j.target, j.method, j.args, JSON.stringify(j.metadata), j.lastError?.message ?? '']
        .join('\n')
        .toLowerCase();
      if (hay.includes(needle)) found.push(j);
      if (found.length === limit) break;
    }
    if (rows.length < PAGE) return found;
    page = { ...filter, afterId: lastId, offset: 0, limit: PAGE };
  }
  if (found.length < limit && lastId !== undefined)
    process.stderr.write(
      `${tenant === undefined ? '' : `tenant ${tenant}: `}searched ${scanned} jobs only, up to ${lastId}; narrow the filters or go on with --after ${lastId}\n`,
    );
  return found;
}

export function jobsCommand(): Command {
  const jobs = new Command('jobs').description('list, inspect and change jobs');

  withFilters(jobs.command('list').description('jobs in creation order, as a table (or --json)'))
    .option('--limit <n>', 'at most this many (default 50)')
    .option('--after <id>', 'only jobs created after this job id (keyset: pass the last id of a page for the next)')
    .option('--offset <n>', 'skip this many first (after --after, if given)')
    .option(
      '--text <text>',
      `only jobs whose id, call, arguments, metadata or last error contain this (case-insensitive; scans at most ${TEXT_SCAN} jobs)`,
    )
    .option('--json', 'print JSON records instead of a table')
    .action(
      async (
        o: FilterOpts & { limit?: string; offset?: string; after?: string; json?: boolean; text?: string },
        cmd: Command,
      ) => {
        const filter = {
          ...filterOf(o),
          afterId: o.after,
          limit: intOption('--limit', o.limit, 50, 1),
          offset: intOption('--offset', o.offset, 0),
        };
        const { across, results } = await withStores(cmd, (store, tenant) =>
          o.text === undefined ? store.admin.listJobs(filter) : searchText(store, filter, o.text, tenant),
        );
        if (o.json) {
          process.stdout.write(json(tagged(across, results)));
          return;
        }
        if (results.every((r) => r.value.length === 0)) {
          process.stdout.write(`no jobs (${describeFilter(filter)})\n`);
          return;
        }
        process.stdout.write(
          tenantTable(
            across,
            ['ID', 'QUEUE', 'CALL', 'STATUS', 'PRIORITY', 'ATTEMPTS', 'RUN AT', 'UPDATED'],
            results,
            (j: JobRecord) => [
              j.id,
              j.queue,
              `${j.target}.${j.method}`,
              statusText(j),
              String(j.priority ?? 0),
              `${j.attempts}/${j.retry.maxAttempts}`,
              iso(j.runAt),
              iso(j.updatedAt),
            ],
          ),
        );
      },
    );

  jobs
    .command('show')
    .description('one job in full: arguments, attempts, lease, result, runs and log')
    .argument('<id>', 'the job id')
    .option('--log-limit <n>', 'show at most this many log lines (default 200)')
    .option('--json', 'print the JSON record, with runs and log')
    .action(async (id: string, o: { json?: boolean; logLimit?: string }, cmd: Command) => {
      const logLimit = intOption('--log-limit', o.logLimit, 200, 1);
      // Across tenants the id is looked up in every store: job ids are unique, so at most one answers.
      const { across, results } = await withStores(cmd, async (store) => {
        const job = await store.admin.getJob(id, { runs: true });
        return job === null
          ? null
          : { job, log: await store.admin.listLogs(id, { limit: Math.min(logLimit, 10_000) }) };
      });
      const hit = results.find((r) => r.value !== null);
      if (hit?.value == null) throw new CliError(`no job ${id}`);
      const { job, log } = hit.value;
      const tenant = across ? hit.tenant : undefined;
      process.stdout.write(
        o.json
          ? json({ ...(tenant === undefined ? {} : { tenant }), ...job, log })
          : showJob(job, job.runs ?? [], log, logLimit, tenant),
      );
    });

  registerJobChanges(jobs);
  registerWatch(jobs);
  return jobs;
}
