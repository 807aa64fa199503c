import 'reflect-metadata';
import {
  JobQueueAdder,
  Retry,
  ScheduleManager,
  Scheduler,
  type ClaimedJob,
  type JobError,
  type JobLogger,
} from '@oddjob/core';
import {
  InversifyContainerFactory,
  JobExecutorShell,
  JobQueueCoordinator,
  type CoordinatorInit,
} from '@oddjob/executor-actors';
import { Container } from 'inversify';
import { BrokenJob, EmailJob, FlakyJob, HeartbeatJob, Mailer, sampleRegistry } from './jobs.js';
import type { SampleStore } from './store.js';

export interface SampleResult {
  succeeded: string[];
  failed: { target: string; error: string }[];
  retries: number;
  emailsSent: number;
  heartbeats: number;
}

/** The sample could not finish: its queue failed on a permanent storage error. */
export class SampleFailedError extends Error {
  override name = 'SampleFailedError';
}

/** The recurring job: every second, so that a run of the sample sees it fire. */
const HEARTBEAT = 'sample.heartbeat.every-second';
const HEARTBEATS_TO_SEE = 2;

/** Warnings and errors to stderr; the sample's own progress lines go to `print`. */
const consoleLogger: JobLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (obj, msg) => console.warn('warn:', msg, obj),
  error: (obj, msg) => console.error('error:', msg, obj),
};

/**
 * Enqueues a few jobs, runs them on a shell until each reached a final state (or `signal` aborts),
 * printing a line per event, and shuts the shell down. Used by main.ts and by the sample's test.
 */
export async function runSample(
  store: SampleStore,
  options: { print?: (line: string) => void; signal?: AbortSignal; logger?: JobLogger } = {},
): Promise<SampleResult> {
  const print = options.print ?? console.log;
  const result: SampleResult = { succeeded: [], failed: [], retries: 0, emailsSent: 0, heartbeats: 0 };
  let finals = 0;
  let expected = Number.POSITIVE_INFINITY;
  let allFinal!: () => void;
  const finished = new Promise<void>((resolve) => (allFinal = resolve));
  // A durable store may still hold jobs of an earlier, interrupted run: they run too, but only this
  // run's jobs are counted towards "all final".
  const mine = new Set<string>();
  const checkFinished = () => {
    if (finals >= expected && result.heartbeats >= HEARTBEATS_TO_SEE) allFinal();
  };
  const countFinal = (job: ClaimedJob) => {
    if (mine.has(job.id)) finals++;
    checkFinished();
  };

  // The hooks run after the outcome is stored: a good place for metrics, alerts, audit lines.
  class PrintingCoordinator extends JobQueueCoordinator {
    constructor(init: CoordinatorInit) {
      super(init);
    }
    override onJobSuccess(job: ClaimedJob): void {
      if (job.target === 'sample.heartbeat') {
        result.heartbeats++;
        print(`  ♥ heartbeat fired by schedule "${HEARTBEAT}" (fire time ${job.runAt.toISOString()})`);
        return checkFinished();
      }
      result.succeeded.push(job.target);
      print(`  ✔ ${job.target}.${job.method} done (attempt ${job.attempts})`);
      countFinal(job);
    }
    override onJobRetry(job: ClaimedJob, error: JobError, runAt: Date): void {
      result.retries++;
      print(
        `  ↻ ${job.target}.${job.method} failed: ${error.message}; retrying in ${Math.max(0, runAt.getTime() - Date.now())} ms`,
      );
    }
    override onJobFailed(job: ClaimedJob, error: JobError): void {
      result.failed.push({ target: job.target, error: error.message });
      print(`  ✖ ${job.target}.${job.method} failed for good after ${job.attempts} attempt(s): ${error.message}`);
      countFinal(job);
    }
  }

  // Recurring schedules: the manager creates them, the Scheduler (ticked by the shell) fires them.
  const schedules = new ScheduleManager({ store: store.schedules, writer: store.writer, registry: sampleRegistry });
  const scheduler = new Scheduler({ store: store.schedules, writer: store.writer, registry: sampleRegistry });
  const container = new Container();
  container.bind(Mailer).toSelf().inSingletonScope();
  const shell = new JobExecutorShell({
    store: store.manager,
    registry: sampleRegistry,
    containers: new InversifyContainerFactory(container, { registry: sampleRegistry }),
    coordinator: PrintingCoordinator,
    logger: options.logger ?? consoleLogger,
    schedulers: [scheduler],
    schedulePollMs: 200,
  });
  // A permanent storage error (a broken statement, a missing table) stops the queue for good:
  // end the sample with it instead of waiting for jobs that will never be claimed.
  // Typed by a cast, not an annotation: set in a callback, which TypeScript's narrowing of `null` does not see.
  let fatal = null as Error | null;
  shell.on('queue:failed', ({ queue, operation, error }) => {
    fatal = new SampleFailedError(
      `queue "${queue}" stopped: storage operation "${operation}" failed permanently: ${(error as Error)?.message ?? String(error)}`,
      { cause: error },
    );
    allFinal();
  });
  const onAbort = () => allFinal();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const adder = new JobQueueAdder(store.writer, { registry: sampleRegistry });
    const quick = Retry.fixed(3, 200);
    const ids = await adder.addJobs([
      {
        target: EmailJob,
        call: (j: EmailJob) => j.send('ada@example.com', 'Welcome'),
        options: { metadata: { user: 'ada' } },
      },
      {
        target: EmailJob,
        call: (j: EmailJob) => j.send('grace@example.com', 'Your report'),
        options: { metadata: { user: 'grace' } },
      },
      { target: EmailJob, call: (j: EmailJob) => j.send('not-an-address', 'Oops'), options: { retry: quick } },
      { target: FlakyJob, call: (j: FlakyJob) => j.sync('acme'), options: { retry: quick } },
      { target: BrokenJob, call: (j: BrokenJob) => j.run('the disk is full'), options: { retry: Retry.fixed(2, 200) } },
      // Jobs that wait for others (parents by their index in this batch): a follow-up once the
      // welcome went out, and an alert that runs only because the broken job failed for good.
      {
        target: EmailJob,
        call: (j: EmailJob) => j.send('ada@example.com', 'Getting started'),
        options: { after: [0] },
      },
      {
        target: EmailJob,
        call: (j: EmailJob) => j.send('ops@example.com', 'sample.broken gave up'),
        options: { after: [{ job: 4, when: 'failed' }] },
      },
    ]);
    for (const id of ids) mine.add(id);
    expected = ids.length;
    // A durable store keeps schedules across runs: upsert creates it once and leaves it as it is after.
    await schedules.upsert(HEARTBEAT, HeartbeatJob, (j: HeartbeatJob) => j.beat('sample'), {
      cron: '* * * * * *',
      timeZone: 'UTC',
      misfire: { kind: 'skip' },
    });
    print(`scheduled "${HEARTBEAT}" (cron "* * * * * *", UTC)`);
    print(
      `enqueued ${ids.length} jobs on the ${store.describe} (2 of them wait for others); running them with 4 workers`,
    );
    shell.startJobQueue('default', { workers: 4, pulseMs: 100 });
    if (finals >= expected) allFinal();
    await finished;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    await shell.shutdown({ timeoutMs: 5000 });
    await schedules.delete(HEARTBEAT).catch(() => undefined);
  }
  if (fatal !== null) throw fatal;
  result.emailsSent = container.get(Mailer).outbox.length;
  print(
    `done: ${result.succeeded.length} succeeded, ${result.failed.length} failed, ${result.retries} retries, ` +
      `${result.emailsSent} emails sent, ${result.heartbeats} heartbeats`,
  );
  return result;
}
