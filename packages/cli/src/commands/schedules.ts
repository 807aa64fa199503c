import { ScheduleManager, type ScheduleInfo, type ScheduleRecord } from '@oddjob/core';
import { Command } from 'commander';
import { withStore, withStores } from '../context.js';
import { CliError } from '../errors.js';
import { confirm, iso, json } from '../output.js';
import type { CliStore } from '../store.js';
import { tagged, tenantTable } from '../tenant-output.js';
import { keyOptions, withKeyOptions, type FlowOpts } from './flow-options.js';
import { number } from './misc.js';

/** Its jobs' key: "-" without one, else the key, its limit and what a fire does while one runs. */
const concurrencyText = (c: ScheduleRecord['concurrency']): string =>
  c == null ? '-' : `${c.key} (limit ${c.limit}, already running: ${c.alreadyRunning})`;

const manager = (store: CliStore): ScheduleManager =>
  new ScheduleManager({ store: store.schedules, writer: store.writer });

function showSchedule(info: ScheduleInfo, tenant?: string): string {
  const rows: [string, string][] = [
    ...(tenant === undefined ? [] : [['tenant', tenant] as [string, string]]),
    ['name', info.name],
    ['cron', `${info.cron} (${info.timeZone})`],
    ['call', `${info.target}.${info.method}`],
    ['queue', info.queue],
    ['state', info.paused ? 'paused' : 'active'],
    ['misfire', JSON.stringify(info.misfire)],
    ['priority', String(info.priority ?? 0)],
    ['key', concurrencyText(info.concurrency)],
    ['last fire', iso(info.lastFireAt)],
    ['upcoming', info.upcoming.map((d) => iso(d)).join(', ') || '-'],
  ];
  return rows.map(([k, v]) => `${k.padEnd(10)} ${v}`).join('\n') + '\n';
}

export function schedulesCommand(): Command {
  const schedules = new Command('schedules').description(
    'recurring schedules: list, show, set, pause, resume, trigger, delete',
  );

  schedules
    .command('list')
    .description('every schedule with its next fire time')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }, cmd: Command) => {
      const { across, results } = await withStores(cmd, (s) => manager(s).list());
      if (o.json) return void process.stdout.write(json(tagged(across, results)));
      if (results.every((r) => r.value.length === 0)) return void process.stdout.write('no schedules\n');
      process.stdout.write(
        tenantTable(
          across,
          ['NAME', 'CRON', 'ZONE', 'CALL', 'QUEUE', 'PRIORITY', 'STATE', 'NEXT', 'LAST'],
          results,
          (r) => [
            r.name,
            r.cron,
            r.timeZone,
            `${r.target}.${r.method}`,
            r.queue,
            String(r.priority ?? 0),
            r.paused ? 'paused' : 'active',
            iso(r.nextFireAt),
            iso(r.lastFireAt),
          ],
        ),
      );
    });

  schedules
    .command('show')
    .description('one schedule and its next fire times (across tenants: the schedule of that name in each)')
    .argument('<name>')
    .option('--upcoming <n>', 'how many coming fire times (default 5)')
    .option('--json', 'print JSON (across tenants: an array, each with its tenant)')
    .action(async (name: string, o: { upcoming?: string; json?: boolean }, cmd: Command) => {
      const upcoming = number('--upcoming', o.upcoming, 0) ?? 5;
      const { across, results } = await withStores(cmd, (s) => manager(s).get(name, { upcoming }));
      // Tenants often run the same application, so one schedule name may be in several of them.
      const found = results.flatMap((r) => (r.value === null ? [] : [{ tenant: r.tenant, value: r.value }]));
      if (found.length === 0) throw new CliError(`no schedule ${JSON.stringify(name)}`);
      if (!across) {
        const info = found[0].value;
        return void process.stdout.write(o.json ? json(info) : showSchedule(info));
      }
      process.stdout.write(
        o.json
          ? json(found.map((f) => ({ tenant: f.tenant, ...f.value })))
          : found.map((f) => showSchedule(f.value, f.tenant)).join('\n'),
      );
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

  withKeyOptions(
    schedules
      .command('set')
      .description("change the priority and concurrency of a schedule's jobs (jobs it already made keep theirs)")
      .argument('<name>'),
    "the schedule's jobs",
  ).action(async (name: string, o: FlowOpts, cmd: Command) => {
    const patch = keyOptions(o);
    if (Object.keys(patch).length === 0)
      throw new CliError('set: give --priority, --already-running, --concurrency-key or --concurrency-limit');
    const r = await withStore(cmd, (s) => manager(s).update(name, patch));
    process.stdout.write(`${r.name}: priority ${r.priority}, key ${concurrencyText(r.concurrency)}\n`);
  });

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
      const deleted = await withStore(cmd, async (s, tenant) => {
        await confirm(
          `delete schedule ${JSON.stringify(name)}${tenant === undefined ? '' : ` in tenant ${tenant}`}?`,
          o.yes === true,
        );
        return manager(s).delete(name);
      });
      if (!deleted) throw new CliError(`no schedule ${JSON.stringify(name)}`);
      process.stdout.write(`deleted ${name}\n`);
    });
  return schedules;
}
