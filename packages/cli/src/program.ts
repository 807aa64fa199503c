import { Command, CommanderError } from 'commander';
import { jobsCommand } from './commands/jobs.js';
import {
  dashboardCommand,
  enqueueCommand,
  executorsCommand,
  migrateCommand,
  schedulesCommand,
  sequencesCommand,
  workerCommand,
} from './commands/index.js';
import { CliError } from './errors.js';

/** The whole command tree; `--help` works on every level (commander writes it from these definitions). */
export function buildProgram(): Command {
  const program = new Command('oddjob')
    .description('operate OddJob stores: jobs, schedules, sequence runs, migrations, the dashboard, workers')
    .option(
      '--store <store>',
      'a file-store directory, postgres://... or mssql://... (env ODDJOB_STORE); repeat as --store NAME=STORE for tenants',
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .option('--tenant <name>', 'with named stores: only this one (reads default to every tenant; changes need it)')
    .option('--schema <name>', 'SQL schema of the store(s) (env ODDJOB_SCHEMA, default oddjob)')
    .addHelpText(
      'after',
      [
        '',
        'Several stores (tenants): --store eu=postgres://db-eu/app --store us=/srv/us, or',
        '  ODDJOB_TENANTS=\'eu=postgres://db-eu/app,us=/srv/us\' (or a JSON object {"eu":"...","us":"..."}).',
        '  Which stores: --store (all given) beats ODDJOB_TENANTS beats ODDJOB_STORE.',
        '  Reads cover every tenant (a TENANT column, a "tenant" field in --json); changes need --tenant NAME.',
      ].join('\n'),
    )
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({
      // Commander's own errors already start with "error: "; prefix them like ours.
      outputError: (text, write) => write(`oddjob: ${text}`),
    })
    .exitOverride();
  for (const sub of [
    jobsCommand(),
    enqueueCommand(),
    schedulesCommand(),
    sequencesCommand(),
    executorsCommand(),
    migrateCommand(),
    dashboardCommand(),
    workerCommand(),
  ]) {
    program.addCommand(sub);
  }
  // Every level reports usage errors the same way and lets run() decide the exit code.
  const apply = (cmd: Command): void => {
    cmd.exitOverride().configureOutput({ outputError: (text, write) => write(`oddjob: ${text}`) });
    for (const c of cmd.commands) apply(c);
  };
  apply(program);
  return program;
}

/** One line per error, never a stack trace (set ODDJOB_DEBUG=1 for one). */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const cause =
      err.cause instanceof Error && !err.message.includes(err.cause.message) ? `: ${err.cause.message}` : '';
    const name = err instanceof CliError || err.name === 'Error' ? '' : `${err.name}: `;
    return `${name}${err.message}${cause}`.replace(/\s*\n\s*/g, ' ');
  }
  return String(err);
}

export async function run(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode; // commander printed it (help exits 0)
    process.stderr.write(`oddjob: error: ${describeError(err)}\n`);
    if (process.env.ODDJOB_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    return err instanceof CliError ? err.exitCode : 1;
  }
}
