import 'reflect-metadata';
import { JobQueueAdder, Retry, type ClaimedJob, type JobError, type JobLogger } from '@oddjob/core';
import { InversifyContainerFactory, JobExecutorShell, JobQueueCoordinator, type CoordinatorInit } from '@oddjob/executor-actors';
import { Container } from 'inversify';
import { BrokenJob, EmailJob, FlakyJob, Mailer, sampleRegistry } from './jobs.js';
import type { SampleStore } from './store.js';

export interface SampleResult {
  succeeded: string[];
  failed: { target: string; error: string }[];
  retries: number;
  emailsSent: number;
}

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
export async function runSample(store: SampleStore, options: { print?: (line: string) => void; signal?: AbortSignal; logger?: JobLogger } = {}): Promise<SampleResult> {
  const print = options.print ?? console.log;
  const result: SampleResult = { succeeded: [], failed: [], retries: 0, emailsSent: 0 };
  let finals = 0;
  let expected = Number.POSITIVE_INFINITY;
  let allFinal!: () => void;
  const finished = new Promise<void>((resolve) => (allFinal = resolve));
  const countFinal = () => {
    if (++finals >= expected) allFinal();
  };

  // The hooks run after the outcome is stored: a good place for metrics, alerts, audit lines.
  class PrintingCoordinator extends JobQueueCoordinator {
    constructor(init: CoordinatorInit) {
      super(init);
    }
    override onJobSuccess(job: ClaimedJob): void {
      result.succeeded.push(job.target);
      print(`  ✔ ${job.target}.${job.method} done (attempt ${job.attempts})`);
      countFinal();
    }
    override onJobRetry(job: ClaimedJob, error: JobError, runAt: Date): void {
      result.retries++;
      print(`  ↻ ${job.target}.${job.method} failed: ${error.message}; retrying in ${Math.max(0, runAt.getTime() - Date.now())} ms`);
    }
    override onJobFailed(job: ClaimedJob, error: JobError): void {
      result.failed.push({ target: job.target, error: error.message });
      print(`  ✖ ${job.target}.${job.method} failed for good after ${job.attempts} attempt(s): ${error.message}`);
      countFinal();
    }
  }

  const container = new Container();
  container.bind(Mailer).toSelf().inSingletonScope();
  const shell = new JobExecutorShell({
    manager: store.manager,
    registry: sampleRegistry,
    containers: new InversifyContainerFactory(container, { registry: sampleRegistry }),
    coordinator: PrintingCoordinator,
    logger: options.logger ?? consoleLogger,
  });
  const onAbort = () => allFinal();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const adder = new JobQueueAdder(store.writer, { registry: sampleRegistry });
    const quick = Retry.fixed(3, 200);
    const ids = await adder.addJobs([
      { target: EmailJob, call: (j: EmailJob) => j.send('ada@example.com', 'Welcome'), options: { metadata: { user: 'ada' } } },
      { target: EmailJob, call: (j: EmailJob) => j.send('grace@example.com', 'Your report'), options: { metadata: { user: 'grace' } } },
      { target: EmailJob, call: (j: EmailJob) => j.send('not-an-address', 'Oops'), options: { retry: quick } },
      { target: FlakyJob, call: (j: FlakyJob) => j.sync('acme'), options: { retry: quick } },
      { target: BrokenJob, call: (j: BrokenJob) => j.run('the disk is full'), options: { retry: Retry.fixed(2, 200) } },
    ]);
    expected = ids.length;
    print(`enqueued ${ids.length} jobs on the ${store.describe}; running them with 4 workers`);
    shell.startJobQueue('default', { workers: 4, pulseMs: 100 });
    if (finals >= expected) allFinal();
    await finished;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    await shell.shutdown({ timeoutMs: 5000 });
  }
  result.emailsSent = container.get(Mailer).outbox.length;
  print(`done: ${result.succeeded.length} succeeded, ${result.failed.length} failed, ${result.retries} retries, ${result.emailsSent} emails sent`);
  return result;
}
