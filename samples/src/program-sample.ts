/**
 * `npm run sample:programs -w samples`: a console program on a schedule. The executor's allow-list
 * names the program; the schedule stores only the entry's name and the argument it may vary.
 */
import { fileURLToPath } from 'node:url';
import { JobRegistry, ScheduleManager, Scheduler, type JobLogger } from '@oddjob/core';
import { JobExecutorShell, JobQueueCoordinator } from '@oddjob/executor-actors';
import { programJob, registerPrograms } from '@oddjob/programs';
import { createStore, type SampleStore } from './store.js';

const SCHEDULE = 'sample.programs.report-every-second';

/** Runs the report program on a schedule until it ran `runs` times; returns the lines printed. */
export async function runProgramSample(
  store: SampleStore,
  options: { runs?: number; print?: (line: string) => void } = {},
): Promise<{ runs: number }> {
  const print = options.print ?? console.log;
  const wanted = options.runs ?? 3;
  const registry = new JobRegistry();
  registerPrograms(registry, {
    report: {
      executable: process.execPath,
      args: [fileURLToPath(new URL('./report-program.js', import.meta.url))],
      vary: { pattern: /[a-z]+/, maxCount: 1 },
      timeoutMs: 10_000,
    },
  });
  // The program's output goes into the run's stored log; each finished run prints it from there.
  const logger: JobLogger = {
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: (_obj, msg) => print(`error: ${msg}`),
  };
  const printLog = async (jobId: string) => {
    for (const line of await store.admin.listLogs(jobId))
      print(`  ${line.level === 'info' ? '|' : '!'} ${line.message}`);
  };
  let runs = 0;
  let enough!: () => void;
  const finished = new Promise<void>((r) => (enough = r));
  class Printing extends JobQueueCoordinator {
    override async onJobSuccess(job: { id: string }): Promise<void> {
      await printLog(job.id);
      print(`run ${++runs} done`);
      if (runs >= wanted) enough();
    }
    override onJobFailed(_job: unknown, error: { message: string }): void {
      print(`run failed: ${error.message}`);
    }
  }
  const schedules = new ScheduleManager({ store: store.schedules, writer: store.writer, registry });
  const scheduler = new Scheduler({ store: store.schedules, writer: store.writer, registry });
  const shell = new JobExecutorShell({
    manager: store.manager,
    registry,
    logger,
    coordinator: Printing,
    schedulers: [scheduler],
    schedulePollMs: 200,
  });
  await schedules.delete(SCHEDULE);
  await schedules.create(SCHEDULE, programJob('report', ['disk']), {
    cron: '* * * * * *',
    timeZone: 'UTC',
    queue: 'programs',
    misfire: { kind: 'skip' },
  });
  print(`scheduled "${SCHEDULE}": the allow-list entry "report" every second`);
  shell.startJobQueue('programs', { workers: 1, pulseMs: 100 });
  try {
    await finished;
  } finally {
    await shell.shutdown({ timeoutMs: 5000 });
    await schedules.delete(SCHEDULE).catch(() => undefined);
  }
  return { runs };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const store = await createStore();
  try {
    await runProgramSample(store);
  } finally {
    await store.close();
  }
}
