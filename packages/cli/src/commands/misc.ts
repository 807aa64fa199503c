import type { ExecutorEntry, JobOptions } from '@oddjob/core';
import { Command } from 'commander';
import { inTenant, oneTarget, selectionOf, withStore, withStores } from '../context.js';
import { CliError } from '../errors.js';
import { iso, json } from '../output.js';
import { applyMigrations, migrationSql } from '../store.js';
import { tagged, tenantTable } from '../tenant-output.js';
import { flowOptions, withFlowOptions, type FlowOpts } from './flow-options.js';

function parseJson(what: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CliError(`${what} is not valid JSON: ${(err as Error).message}`);
  }
}

export function number(name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    throw new CliError(`${name} ${JSON.stringify(value)}: must be an integer >= ${min}`);
  return n;
}

export function enqueueCommand(): Command {
  const cmd = new Command('enqueue')
    .description('add a job in the plain form: target (registered name), method, JSON array of arguments')
    .argument('<target>', 'the name the target class is registered under')
    .argument('<method>', 'a method of that class')
    .argument('[args]', 'JSON array of arguments', '[]')
    .option('--queue <name>', 'queue (default "default")')
    .option('--run-at <iso-time>', 'not before this time (ISO 8601)')
    .option('--delay-ms <ms>', 'not before now + this many milliseconds')
    .option('--unique-key <key>', 'add nothing if a job holds this key (answers that job id)')
    .option('--max-attempts <n>', 'attempts allowed (exponential backoff from 1 s)')
    .option('--metadata <json>', 'JSON object stored with the job')
    .option('--json', 'print { id } as JSON');
  return withFlowOptions(cmd).action(
    async (
      target: string,
      method: string,
      argsText: string,
      o: Record<string, string | boolean | undefined> & FlowOpts,
      cmd: Command,
    ) => {
      const args = parseJson('args', argsText);
      if (!Array.isArray(args)) throw new CliError('args must be a JSON array, e.g. \'["a@b.c", 3]\'');
      const options: JobOptions = flowOptions(o);
      if (o.queue !== undefined) options.queue = String(o.queue);
      if (o.runAt !== undefined) {
        const d = new Date(String(o.runAt));
        if (Number.isNaN(d.getTime()))
          throw new CliError(
            `--run-at ${JSON.stringify(o.runAt)}: not a date (use ISO 8601, e.g. 2026-12-01T08:00:00Z)`,
          );
        options.runAt = d;
      }
      const delay = number('--delay-ms', o.delayMs as string | undefined, 0);
      if (delay !== undefined) options.delayMs = delay;
      if (o.uniqueKey !== undefined) options.uniqueKey = String(o.uniqueKey);
      const attempts = number('--max-attempts', o.maxAttempts as string | undefined, 1);
      if (attempts !== undefined)
        options.retry = {
          maxAttempts: attempts,
          backoff: { kind: 'exponential', baseMs: 1000, factor: 2, maxMs: 3_600_000, jitter: true },
        };
      if (o.metadata !== undefined) {
        const m = parseJson('--metadata', String(o.metadata));
        if (m === null || typeof m !== 'object' || Array.isArray(m))
          throw new CliError('--metadata must be a JSON object');
        options.metadata = m as Record<string, unknown>;
      }
      const id = await withStore(cmd, (store) => store.adder().addJob({ target, method, args }, options));
      process.stdout.write(o.json ? json({ id }) : `${id}\n`);
    },
  );
}

export function executorsCommand(): Command {
  return new Command('executors')
    .description('executors registered in the store: host, pid, queues, last heartbeat (stale ones flagged)')
    .option(
      '--stale-after-ms <ms>',
      'flag an executor stale when its last heartbeat is older than this (default 30000)',
    )
    .option('--json', 'print JSON records instead of a table')
    .action(async (o: { json?: boolean; staleAfterMs?: string }, cmd: Command) => {
      const staleAfterMs = number('--stale-after-ms', o.staleAfterMs, 1);
      const { across, results } = await withStores(cmd, (store) =>
        store.executors.listExecutors(staleAfterMs === undefined ? {} : { staleAfterMs }),
      );
      if (o.json) {
        process.stdout.write(json(tagged(across, results)));
        return;
      }
      if (results.every((r) => r.value.length === 0)) {
        process.stdout.write('no executors registered (none running, or they stopped cleanly)\n');
        return;
      }
      process.stdout.write(
        tenantTable(
          across,
          ['ID', 'HOST', 'PID', 'VERSION', 'STATE', 'QUEUES', 'STARTED', 'HEARTBEAT'],
          results,
          (e: ExecutorEntry) => [
            e.id,
            e.host,
            String(e.pid),
            e.version,
            e.stale ? `${e.state} (stale)` : e.state,
            e.queues.map((q) => `${q.name}x${q.workers}`).join(' ') || '-',
            iso(e.startedAt),
            iso(e.heartbeatAt),
          ],
        ),
      );
    });
}

export function migrateCommand(): Command {
  return new Command('migrate')
    .description(
      'bring the store up to date (SQL schemas; the file store directory), or --print the SQL; with tenants, every one (or --tenant)',
    )
    .option('--print', 'print the SQL instead of applying it (PostgreSQL, SQL Server; one tenant)')
    .action(async (o: { print?: boolean }, cmd: Command) => {
      // The SQL is a script for one database: printing several into one file would invite running it once.
      if (o.print) return void process.stdout.write(await migrationSql(oneTarget(cmd, 'migrate --print').spec));
      // One tenant after the other, stopping at the first failure: what was migrated stays so, and
      // running the command again only has the rest to do.
      for (const { tenant, spec } of selectionOf(cmd).targets) {
        const label = tenant === undefined ? '' : `tenant ${tenant}: `;
        process.stderr.write(`migrating ${label}${spec.describe} ...\n`);
        const line = await applyMigrations(spec).catch((err: unknown) => Promise.reject(inTenant(tenant, err)));
        process.stdout.write(`${label}${line}\n`);
      }
    });
}
