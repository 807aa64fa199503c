/**
 * Executor throughput: no-op jobs through the full actor path (queue layer → coordinator → 10
 * workers → batched outcome writes) on MemoryJobStore, so the figure is the executor's own cost.
 *
 *   node bench/dist/src/executor.js [jobs=100000] [workers=10]
 *
 * Three phases:
 *  - executor only: a stub manager hands out pre-built jobs from an array and accepts every outcome,
 *    so the figure is the executor's own ceiling (actors, dispatch, DI scope, argument decoding).
 *  - drain: `jobs` jobs enqueued up front, then the queue started; jobs/s from start to the last
 *    confirmed outcome. Its enqueue-to-start latency is mostly time spent waiting in the backlog.
 *  - steady: jobs enqueued in small batches at about half the measured drain rate while the queue
 *    runs; its enqueue-to-start latency is the executor's reaction time (wake-up, claim, dispatch).
 */
import 'reflect-metadata';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import {
  DEFAULT_RETRY_POLICY,
  JobRegistry,
  MemoryJobStore,
  newInstanceFactory,
  serializeArgs,
  type ClaimRequest,
  type ClaimedJob,
  type IJobQueueManager,
  type JobOutcome,
  type LeaseCheck,
} from '@oddjob/core';
import { JobExecutorShell, JobQueueCoordinator, silentLogger, type CoordinatorInit } from '@oddjob/executor-actors';

interface PhaseResult {
  phase: string;
  jobs: number;
  seconds: number;
  jobsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

/** Start times by job id; enqueue times ride in the job's argument (performance.now() at enqueue). */
const startLatencies: number[] = [];

class NoopJob {
  async run(enqueuedAt: number): Promise<void> {
    startLatencies.push(performance.now() - enqueuedAt);
  }
}

let finished = 0;
let onFinished: (() => void) | null = null;
let target = 0;

class CountingCoordinator extends JobQueueCoordinator {
  constructor(init: CoordinatorInit) {
    super(init);
  }
  override onJobSuccess(_job: ClaimedJob): void {
    if (++finished === target) onFinished?.();
  }
  override onJobFailed(job: ClaimedJob, error: { message: string }): void {
    throw new Error(`bench job ${job.id} failed: ${error.message}`);
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function enqueue(store: MemoryJobStore, registry: JobRegistry, n: number, batch = 1000): Promise<void> {
  const adder = store.adder({ registry });
  for (let done = 0; done < n; done += batch) {
    const size = Math.min(batch, n - done);
    const specs = new Array(size);
    for (let i = 0; i < size; i++) specs[i] = { target: NoopJob, call: (j: NoopJob) => j.run(performance.now()) };
    await adder.addJobs(specs);
  }
}

/** Claims pre-built jobs off an array; accepts every outcome. No storage cost at all. */
class StubManager implements IJobQueueManager {
  private next = 0;
  constructor(private readonly jobs: ClaimedJob[]) {}
  async claimJobs(r: ClaimRequest): Promise<ClaimedJob[]> {
    const out = this.jobs.slice(this.next, this.next + r.limit);
    this.next += out.length;
    return out;
  }
  async recordOutcomes(o: readonly JobOutcome[]): Promise<LeaseCheck[]> {
    return o.map(() => 'ok');
  }
  async extendLeases(l: readonly unknown[]): Promise<LeaseCheck[]> {
    return l.map(() => 'ok');
  }
  async appendLogs(entries: readonly unknown[]): Promise<LeaseCheck[]> {
    return entries.map(() => 'ok');
  }

  async reportProgress(): Promise<LeaseCheck> {
    return 'ok';
  }
}

function stubJobs(n: number): ClaimedJob[] {
  const now = new Date();
  return Array.from({ length: n }, (_, i) => ({
    id: `job-${i}`,
    queue: 'default',
    target: 'noop',
    method: 'run',
    args: serializeArgs([0]),
    status: 'processing' as const,
    runAt: now,
    attempts: 1,
    retry: DEFAULT_RETRY_POLICY,
    lastError: null,
    lease: { owner: 'bench', token: `t${i}`, expiresAt: new Date(now.getTime() + 60_000) },
    progress: null,
    progressMessage: null,
    result: null,
    startedAt: now,
    executorId: 'bench',
    host: null,
    metadata: {},
    uniqueKey: null,
    pinnedHost: null,
    uniqueScope: 'stored' as const,
    priority: 0,
    after: null,
    waitingFor: null,
    concurrency: null,
    sequence: null,
    createdAt: now,
    updatedAt: now,
    finishedAt: null,
  }));
}

async function runPhase(
  name: string,
  jobs: number,
  workers: number,
  feed: (store: MemoryJobStore, registry: JobRegistry, started: () => void) => Promise<void>,
  manager?: IJobQueueManager,
): Promise<PhaseResult> {
  const registry = new JobRegistry().register('noop', NoopJob);
  const store = new MemoryJobStore();
  startLatencies.length = 0;
  finished = 0;
  target = jobs;
  const allDone = new Promise<void>((resolve) => (onFinished = resolve));
  const shell = new JobExecutorShell({
    manager: manager ?? store,
    registry,
    containers: newInstanceFactory,
    coordinator: CountingCoordinator,
    logger: silentLogger,
  });
  let t0 = 0;
  await feed(store, registry, () => {
    t0 = performance.now();
    shell.startJobQueue('default', { workers, pulseMs: 1000 });
  });
  await allDone;
  const seconds = (performance.now() - t0) / 1000;
  await shell.shutdown();
  const sorted = [...startLatencies].sort((a, b) => a - b);
  return {
    phase: name,
    jobs,
    seconds,
    jobsPerSecond: jobs / seconds,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
  };
}

export async function main(args: string[] = process.argv.slice(2)): Promise<PhaseResult[]> {
  const jobs = Number(args[0] ?? 100_000);
  const workers = Number(args[1] ?? 10);
  const results: PhaseResult[] = [];

  const stub = await runPhase(
    'executor only (stub store)',
    jobs,
    workers,
    async (_s, _r, start) => start(),
    new StubManager(stubJobs(jobs)),
  );
  results.push({ ...stub, p50Ms: NaN, p99Ms: NaN }); // stub jobs carry no enqueue time

  const drain = await runPhase('drain (preloaded)', jobs, workers, async (store, registry, start) => {
    await enqueue(store, registry, jobs);
    start();
  });
  results.push(drain);

  // Offer about a quarter of the drain rate, in batches of 100 every few ms, so the queue stays
  // short (the producer shares the thread: enqueue costs validation, serialization and the store).
  const rate = Math.max(1000, Math.floor(drain.jobsPerSecond / 4));
  const steadyJobs = Math.min(jobs, rate * 2);
  const batch = 100;
  const intervalMs = (batch / rate) * 1000;
  const steady = await runPhase(`steady (~${rate}/s offered)`, steadyJobs, workers, async (store, registry, start) => {
    start();
    const t0 = performance.now();
    for (let sent = 0; sent < steadyJobs; sent += batch) {
      const due = t0 + (sent / batch) * intervalMs;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      await enqueue(store, registry, Math.min(batch, steadyJobs - sent), batch);
    }
  });
  results.push(steady);

  console.log(`\nexecutor-actors: no-op jobs, MemoryJobStore, ${workers} workers (indicative: shared 2-core machine)`);
  console.table(
    results.map((r) => ({
      phase: r.phase,
      jobs: r.jobs,
      seconds: r.seconds.toFixed(2),
      'jobs/s': Math.round(r.jobsPerSecond),
      'p50 enqueue→start ms': Number.isNaN(r.p50Ms) ? '-' : r.p50Ms.toFixed(2),
      'p99 enqueue→start ms': Number.isNaN(r.p99Ms) ? '-' : r.p99Ms.toFixed(2),
    })),
  );
  return results;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
