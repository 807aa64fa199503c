// `oddjob sequences list|show|cancel`: runs of sequences as core reads them back from their step
// jobs (nothing about a run is stored but its jobs, so the CLI needs no definitions to show one).
import { cancelSequenceRun, getSequenceRun, listSequenceRuns, type SequenceRun } from '@oddjob/core';
import { Command } from 'commander';
import { withStore, withStores } from '../context.js';
import { CliError } from '../errors.js';
import { confirm, iso, json, table } from '../output.js';
import { tagged, tenantTable } from '../tenant-output.js';
import { intOption } from './job-filters.js';

/** "2 succeeded, 1 waiting": how many steps are in each step status. */
function stepCounts(run: SequenceRun): string {
  const by = new Map<string, number>();
  for (const s of run.steps) by.set(s.status, (by.get(s.status) ?? 0) + 1);
  return [...by].map(([status, n]) => `${n} ${status}`).join(', ');
}

/** A run as text: its status, then one row per step with its job, status and parents by step. */
export function showRun(run: SequenceRun, tenant?: string): string {
  const head = [
    ...(tenant === undefined ? [] : [['tenant', tenant]]),
    ['run', run.run],
    ['sequence', run.name],
    ['status', run.status],
    ['started', iso(run.createdAt)],
    ['finished', iso(run.finishedAt)],
  ];
  const rows = run.steps.map((s) => [
    s.step,
    s.status,
    s.jobId,
    `${s.target}.${s.method}`,
    s.after === null
      ? '-'
      : `${s.after.rule === 'mixed' ? 'mixed: ' : ''}${s.after.parents.map((p) => `${p.step ?? p.job} ${p.when}`).join(', ')}`,
    s.lastError === null ? '-' : `${s.lastError.name}: ${s.lastError.message}`.slice(0, 80),
  ]);
  return `${head.map(([k, v]) => `${k.padEnd(9)} ${v}`).join('\n')}\n\n${table(['STEP', 'STATUS', 'JOB', 'CALL', 'AFTER', 'ERROR'], rows)}`;
}

export function sequencesCommand(): Command {
  const sequences = new Command('sequences').description('runs of sequences: list, show (with steps), cancel');

  sequences
    .command('list')
    .description('runs, newest first, with the status derived from their steps')
    .option('--name <sequence>', 'only runs of this sequence (without it every job of the store is read)')
    .option('--limit <n>', 'at most this many runs per store (default 20)')
    .option('--json', 'print JSON runs (with their steps)')
    .action(async (o: { name?: string; limit?: string; json?: boolean }, cmd: Command) => {
      const limit = intOption('--limit', o.limit, 20, 1);
      const { across, results } = await withStores(cmd, (s) =>
        listSequenceRuns(s.admin, { ...(o.name === undefined ? {} : { name: o.name }), limit }),
      );
      if (o.json) return void process.stdout.write(json(tagged(across, results)));
      if (results.every((r) => r.value.length === 0))
        return void process.stdout.write(`no sequence runs${o.name === undefined ? '' : ` of ${o.name}`}\n`);
      process.stdout.write(
        tenantTable(across, ['RUN', 'SEQUENCE', 'STATUS', 'STEPS', 'STARTED', 'FINISHED'], results, (r) => [
          r.run,
          r.name,
          r.status,
          stepCounts(r),
          iso(r.createdAt),
          iso(r.finishedAt),
        ]),
      );
    });

  sequences
    .command('show')
    .description('one run: its status and every step with its job, status and parents')
    .argument('<run>', 'the run id')
    .option('--json', 'print the JSON run')
    .action(async (id: string, o: { json?: boolean }, cmd: Command) => {
      // Across tenants the run is looked up in every store: run ids are UUIDs, so at most one answers.
      const { across, results } = await withStores(cmd, (s) => getSequenceRun(s.admin, id));
      const hit = results.find((r) => r.value !== null);
      if (hit?.value == null) throw new CliError(`no sequence run ${id}`);
      const tenant = across ? hit.tenant : undefined;
      process.stdout.write(
        o.json ? json({ ...(tenant === undefined ? {} : { tenant }), ...hit.value }) : showRun(hit.value, tenant),
      );
    });

  sequences
    .command('cancel')
    .description('cancel every step of the run that has not finished (a running step is not interrupted)')
    .argument('<run>', 'the run id')
    .option('-y, --yes', 'do not ask for confirmation')
    .action(async (id: string, o: { yes?: boolean }, cmd: Command) => {
      const cancelled = await withStore(cmd, async (s, tenant) => {
        const run = await getSequenceRun(s.admin, id);
        if (run === null) throw new CliError(`no sequence run ${id}`);
        await confirm(
          `cancel run ${id} of ${run.name}${tenant === undefined ? '' : ` in tenant ${tenant}`} (${stepCounts(run)})?`,
          o.yes === true,
        );
        return cancelSequenceRun(s.admin, id);
      });
      if (cancelled.length === 0) throw new CliError(`sequence run ${id} has no step left to cancel`);
      process.stdout.write(`cancelled ${cancelled.length} steps: ${cancelled.join(', ')}\n`);
    });
  return sequences;
}
