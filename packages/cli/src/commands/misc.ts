import { ScheduleManager, type JobOptions } from '@oddjob/core';
import { Command } from 'commander';
import { storeSpecOf, withStore } from '../context.js';
import { CliError } from '../errors.js';
import { iso, json, table } from '../output.js';
import { applyMigrations, migrationSql } from '../store.js';

function parseJson(what: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CliError(`${what} is not valid JSON: ${(err as Error).message}`);
  }
}

function number(name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    throw new CliError(`${name} ${JSON.stringify(value)}: must be an integer >= ${min}`);
  return n;
}

export function enqueueCommand(): Command {
  return new Command('enqueue')
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
    .option('--json', 'print { id } as JSON')
    .action(
      async (
        target: string,
        method: string,
        argsText: string,
        o: Record<string, string | boolean | undefined>,
        cmd: Command,
      ) => {
        const args = parseJson('args', argsText);
        if (!Array.isArray(args)) throw new CliError('args must be a JSON array, e.g. \'["a@b.c", 3]\'');
        const options: JobOptions = {};
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

export function schedulesCommand(): Command {
  const schedules = new Command('schedules').description(
    'recurring schedules: list, show, pause, resume, trigger, delete',
  );
  const manager = (store: Parameters<Parameters<typeof withStore>[1]>[0]): ScheduleManager =>
    new ScheduleManager({ store: store.schedules, writer: store.writer });

  schedules
    .command('list')
    .description('every schedule with its next fire time')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }, cmd: Command) => {
      const list = await withStore(cmd, (s) => manager(s).list());
      if (o.json) return void process.stdout.write(json(list));
      if (list.length === 0) return void process.stdout.write('no schedules\n');
      process.stdout.write(
        table(
          ['NAME', 'CRON', 'ZONE', 'CALL', 'QUEUE', 'STATE', 'NEXT', 'LAST'],
          list.map((r) => [
            r.name,
            r.cron,
            r.timeZone,
            `${r.target}.${r.method}`,
            r.queue,
            r.paused ? 'paused' : 'active',
            iso(r.nextFireAt),
            iso(r.lastFireAt),
          ]),
        ),
      );
    });

  schedules
    .command('show')
    .description('one schedule and its next fire times')
    .argument('<name>')
    .option('--upcoming <n>', 'how many coming fire times (default 5)')
    .option('--json', 'print JSON')
    .action(async (name: string, o: { upcoming?: string; json?: boolean }, cmd: Command) => {
      const info = await withStore(cmd, (s) =>
        manager(s).get(name, { upcoming: number('--upcoming', o.upcoming, 0) ?? 5 }),
      );
      if (info === null) throw new CliError(`no schedule ${JSON.stringify(name)}`);
      if (o.json) return void process.stdout.write(json(info));
      const rows: [string, string][] = [
        ['name', info.name],
        ['cron', `${info.cron} (${info.timeZone})`],
        ['call', `${info.target}.${info.method}`],
        ['queue', info.queue],
        ['state', info.paused ? 'paused' : 'active'],
        ['misfire', JSON.stringify(info.misfire)],
        ['last fire', iso(info.lastFireAt)],
        ['upcoming', info.upcoming.map((d) => iso(d)).join(', ') || '-'],
      ];
      process.stdout.write(rows.map(([k, v]) => `${k.padEnd(10)} ${v}`).join('\n') + '\n');
    });

  for (const [verb, what] of [
    ['pause', 'stop firing until resumed'],
    ['resume', 'fire again from now on'],
  ] as const) {
    schedules
      .command(verb)
      .description(what)
      .argument('<name>')
      .action(async (name: string, _o: unknown, cmd: Command) => {
        const r = await withStore(cmd, (s) => manager(s)[verb](name));
        process.stdout.write(`${r.name}: ${r.paused ? 'paused' : `active, next ${iso(r.nextFireAt)}`}\n`);
      });
  }

  schedules
    .command('trigger')
    .description('make one job of the schedule now (outside its cron sequence)')
    .argument('<name>')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const id = await withStore(cmd, (s) => manager(s).triggerNow(name));
      process.stdout.write(`${id}\n`);
    });

  schedules
    .command('delete')
    .description('delete a schedule (jobs it already made stay)')
    .argument('<name>')
    .option('-y, --yes', 'do not ask for confirmation')
    .action(async (name: string, o: { yes?: boolean }, cmd: Command) => {
      const { confirm } = await import('../output.js');
      await confirm(`delete schedule ${JSON.stringify(name)}?`, o.yes === true);
      const deleted = await withStore(cmd, (s) => manager(s).delete(name));
      if (!deleted) throw new CliError(`no schedule ${JSON.stringify(name)}`);
      process.stdout.write(`deleted ${name}\n`);
    });
  return schedules;
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
      const list = await withStore(cmd, (store) =>
        store.executors.listExecutors(staleAfterMs === undefined ? {} : { staleAfterMs }),
      );
      if (o.json) {
        process.stdout.write(json(list));
        return;
      }
      if (list.length === 0) {
        process.stdout.write('no executors registered (none running, or they stopped cleanly)\n');
        return;
      }
      process.stdout.write(
        table(
          ['ID', 'HOST', 'PID', 'VERSION', 'STATE', 'QUEUES', 'STARTED', 'HEARTBEAT'],
          list.map((e) => [
            e.id,
            e.host,
            String(e.pid),
            e.version,
            e.stale ? `${e.state} (stale)` : e.state,
            e.queues.map((q) => `${q.name}x${q.workers}`).join(' ') || '-',
            iso(e.startedAt),
            iso(e.heartbeatAt),
          ]),
        ),
      );
    });
}

export function migrateCommand(): Command {
  return new Command('migrate')
    .description('bring the store up to date (SQL schemas; the file store directory), or --print the SQL')
    .option('--print', 'print the SQL instead of applying it (PostgreSQL, SQL Server)')
    .action(async (o: { print?: boolean }, cmd: Command) => {
      const spec = storeSpecOf(cmd);
      if (o.print) return void process.stdout.write(await migrationSql(spec));
      process.stderr.write(`migrating ${spec.describe} ...\n`);
      process.stdout.write(`${await applyMigrations(spec)}\n`);
    });
}
