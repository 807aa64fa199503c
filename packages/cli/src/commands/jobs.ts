import { inspect } from 'node:util';
import {
  deserializeArgs,
  deserializeResult,
  FINAL_JOB_STATUSES,
  JOB_STATUSES,
  type FinalJobStatus,
  type JobFilter,
  type JobRecord,
  type JobRun,
  type JobStatus,
  type StoredLogLine,
} from '@oddjob/core';
import { Command } from 'commander';
import { withStore } from '../context.js';
import { CliError } from '../errors.js';
import { confirm, iso, json, progress, table } from '../output.js';
import type { CliStore } from '../store.js';
import { registerWatch } from './watch.js';

/** At most this many jobs are changed by one filter-driven retry/cancel (they are listed first). */
const MAX_BULK = 100_000;
const PAGE = 1000;

export function parseStatuses(
  value: string | undefined,
  allowed: readonly JobStatus[] = JOB_STATUSES,
): JobStatus[] | undefined {
  if (value === undefined) return undefined;
  const list = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const s of list) {
    if (!allowed.includes(s as JobStatus))
      throw new CliError(`--status ${JSON.stringify(s)}: must be one of ${allowed.join(', ')}`);
  }
  return list as JobStatus[];
}

function intOption(name: string, value: string | undefined, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    throw new CliError(`${name} ${JSON.stringify(value)}: must be an integer >= ${min}`);
  return n;
}

interface FilterOpts {
  status?: string;
  queue?: string;
  target?: string;
}

const withFilters = (cmd: Command): Command =>
  cmd
    .option('--status <list>', `comma-separated statuses (${JOB_STATUSES.join(', ')})`)
    .option('--queue <name>', 'only this queue')
    .option('--target <name>', 'only this target (the registered name)');

function filterOf(o: FilterOpts, defaultStatuses?: JobStatus[], allowed?: readonly JobStatus[]): JobFilter {
  return { status: parseStatuses(o.status, allowed) ?? defaultStatuses, queue: o.queue, target: o.target };
}

/** Every job matching the filter, page by page, each page after the last id of the one before (keyset). */
async function listAll(store: CliStore, filter: JobFilter, max: number): Promise<JobRecord[]> {
  const out: JobRecord[] = [];
  let afterId = filter.afterId;
  while (out.length < max) {
    const page = await store.admin.listJobs({ ...filter, afterId, limit: PAGE });
    out.push(...page);
    if (page.length < PAGE) break;
    afterId = page[page.length - 1].id;
  }
  return out.slice(0, max);
}

/** No store can search text: scan pages here, like the dashboard does, and say when the scan was cut short. */
const TEXT_SCAN = 10_000;
async function searchText(store: CliStore, filter: JobFilter, text: string): Promise<JobRecord[]> {
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
      `searched ${scanned} jobs only, up to ${lastId}; narrow the filters or go on with --after ${lastId}\n`,
    );
  return found;
}

function describeFilter(f: JobFilter): string {
  const parts: string[] = [];
  if (f.status !== undefined) parts.push(`status ${[f.status].flat().join(',')}`);
  if (f.queue !== undefined) parts.push(`queue ${f.queue}`);
  if (f.target !== undefined) parts.push(`target ${f.target}`);
  if (f.afterId !== undefined) parts.push(`after ${f.afterId}`);
  return parts.length === 0 ? 'all jobs' : parts.join(', ');
}

function decodeArgs(job: JobRecord): unknown {
  try {
    return deserializeArgs(job.args, job.id);
  } catch (err) {
    return `(arguments cannot be decoded: ${(err as Error).message})`;
  }
}

function decodeResult(job: JobRecord): string {
  if (job.result === null) return '-';
  try {
    return inspect(deserializeResult(job.result, job.id), { depth: 6, breakLength: 100 });
  } catch (err) {
    return `(result cannot be decoded: ${(err as Error).message})`;
  }
}

function showRuns(runs: readonly JobRun[]): string {
  if (runs.length === 0) return 'runs: none yet\n';
  return `runs:\n${table(
    ['ATTEMPT', 'STATE', 'EXECUTOR', 'HOST', 'STARTED', 'DURATION', 'ERROR'],
    runs.map((r) => [
      String(r.attempt),
      r.state,
      r.executorId,
      (r.host ?? '-') + (r.takeover ? ` (took over from ${r.takeover.pinnedHost})` : ''),
      iso(r.startedAt),
      r.durationMs === null ? '-' : `${r.durationMs} ms`,
      r.error ? `${r.error.name}: ${r.error.message}`.slice(0, 80) : '-',
    ]),
  )}`;
}

function showLog(lines: readonly StoredLogLine[], limit: number): string {
  if (lines.length === 0) return 'log: empty\n';
  const more = lines.length === limit ? `(first ${limit} lines; use --log-limit for more)\n` : '';
  return `log:\n${lines.map((l) => `  ${iso(l.at)} #${l.attempt} ${l.level.padEnd(5)} ${l.message}`).join('\n')}\n${more}`;
}

function showJob(job: JobRecord, runs: readonly JobRun[], log: readonly StoredLogLine[], logLimit: number): string {
  const lines = [
    ['id', job.id],
    ['status', job.status],
    ['queue', job.queue],
    ['call', `${job.target}.${job.method}`],
    ['args', inspect(decodeArgs(job), { depth: 6, breakLength: 100 })],
    ['attempts', `${job.attempts} of ${job.retry.maxAttempts}`],
    ['run at', iso(job.runAt)],
    ['created', iso(job.createdAt)],
    ['updated', iso(job.updatedAt)],
    ['finished', iso(job.finishedAt)],
    ['unique key', job.uniqueKey ?? '-'],
    ['pinned to', job.pinnedHost ?? '-'],
    ['lease', job.lease ? `${job.lease.owner} until ${iso(job.lease.expiresAt)}` : '-'],
    [
      'progress',
      job.progress === null
        ? '-'
        : `${JSON.stringify(job.progress)}${job.progressMessage === null ? '' : ` (${job.progressMessage})`}`,
    ],
    ['result', decodeResult(job)],
    ['metadata', JSON.stringify(job.metadata)],
    ['last error', job.lastError ? `${job.lastError.name ?? 'Error'}: ${job.lastError.message}` : '-'],
  ];
  let out = lines.map(([k, v]) => `${k.padEnd(11)} ${v}`).join('\n') + '\n';
  if (job.lastError?.stack) out += `\n${job.lastError.stack}\n`;
  out += `\n${showRuns(runs)}\n${showLog(log, logLimit)}`;
  return out;
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
        const list = await withStore(cmd, (store) =>
          o.text === undefined ? store.admin.listJobs(filter) : searchText(store, filter, o.text),
        );
        if (o.json) {
          process.stdout.write(json(list));
          return;
        }
        if (list.length === 0) {
          process.stdout.write(`no jobs (${describeFilter(filter)})\n`);
          return;
        }
        process.stdout.write(
          table(
            ['ID', 'QUEUE', 'CALL', 'STATUS', 'ATTEMPTS', 'RUN AT', 'UPDATED'],
            list.map((j) => [
              j.id,
              j.queue,
              `${j.target}.${j.method}`,
              j.status,
              `${j.attempts}/${j.retry.maxAttempts}`,
              iso(j.runAt),
              iso(j.updatedAt),
            ]),
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
      const found = await withStore(cmd, async (store) => {
        const job = await store.admin.getJob(id, { runs: true });
        return job === null
          ? null
          : { job, log: await store.admin.listLogs(id, { limit: Math.min(logLimit, 10_000) }) };
      });
      if (found === null) throw new CliError(`no job ${id}`);
      const { job, log } = found;
      process.stdout.write(o.json ? json({ ...job, log }) : showJob(job, job.runs ?? [], log, logLimit));
    });

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
    'cancel jobs that have not finished (new, retry, processing)',
    ['new', 'retry'],
    ['new', 'retry', 'processing'],
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
      await withStore(cmd, async (store) => {
        const counts = await store.admin.countJobs({ queue: o.queue });
        const upTo = counts
          .filter((c) => (statuses as JobStatus[]).includes(c.status))
          .reduce((n, c) => n + c.count, 0);
        if (upTo === 0) {
          process.stdout.write('nothing to purge\n');
          return;
        }
        const what = `purge up to ${upTo} jobs (status ${statuses.join(',')}${o.queue ? `, queue ${o.queue}` : ''}${finishedBefore ? `, finished before ${iso(finishedBefore)}` : ''})`;
        await confirm(`${what}?`, o.yes === true);
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

  registerWatch(jobs);
  return jobs;
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
      const hasFilter = o.status !== undefined || o.queue !== undefined || o.target !== undefined;
      if (ids.length > 0 && hasFilter) throw new CliError(`${name}: give job ids or filters, not both`);
      if (ids.length === 0 && !hasFilter)
        throw new CliError(
          `${name}: give job ids, or filters (--status, --queue, --target) to ${name} every matching job`,
        );
      await withStore(cmd, async (store) => {
        let targets = ids;
        if (ids.length === 0) {
          const filter = filterOf(o, defaultStatuses, allowed);
          targets = (await listAll(store, filter, intOption('--max', o.max, MAX_BULK, 1))).map((j) => j.id);
          if (targets.length === 0) {
            process.stdout.write(`no jobs match (${describeFilter(filter)})\n`);
            return;
          }
          await confirm(`${name} ${targets.length} jobs (${describeFilter(filter)})?`, o.yes === true);
        } else if (ids.length > 1) {
          await confirm(`${name} ${ids.length} jobs?`, o.yes === true);
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
