import type { IExecutorRegistry, IJobQueueAdmin, JobCount } from '@oddjob/core';
import { Counter, Gauge, Registry } from 'prom-client';
import { BucketHistogram, type HistogramSeries } from './histogram.js';
import type { ExecutorEventSource } from './events.js';

export interface CollectMetricsOptions {
  /** The executor whose events feed the counters and histograms (started, succeeded, ...). */
  shell?: ExecutorEventSource;
  /** The store's admin API; feeds the gauges (waiting, running, oldest waiting), read on scrape. */
  admin?: IJobQueueAdmin;
  /** The store's executor registry; feeds `oddjob_executors` (live executors by state), read on scrape. */
  executors?: IExecutorRegistry;
  /** Where to register; default a new Registry. */
  registry?: Registry;
  /**
   * How long one read of the store answers scrapes (default 2000 ms): a storm of scrapes, or several
   * Prometheus servers, cost one countJobs per interval, not one per scrape.
   */
  cacheMs?: number;
  /** Histogram buckets in seconds. */
  durationBuckets?: number[];
  latencyBuckets?: number[];
  /** Default Date.now; tests inject a clock. */
  now?: () => number;
}

export const ENQUEUED_COUNTER = 'oddjob_jobs_enqueued_total';
const DEFAULT_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60, 300];

interface StoreSnapshot {
  counts: JobCount[];
  oldest: Map<string, number>;
}

/**
 * Registers OddJob's metrics on a prom-client Registry and returns it:
 * counters per queue and target from the shell's events, gauges per queue from the store's admin API
 * (read when scraped, cached for `cacheMs`), histograms of run duration and enqueue-to-start latency.
 */
export function collectMetrics(options: CollectMetricsOptions = {}): Registry {
  const registry = options.registry ?? new Registry();
  const now = options.now ?? Date.now;
  const cacheMs = options.cacheMs ?? 2000;
  if (!Number.isFinite(cacheMs) || cacheMs < 0)
    throw new TypeError(`collectMetrics: cacheMs must be a number >= 0, got ${String(cacheMs)}`);
  const labels = ['queue', 'target'] as const;

  enqueuedCounter(registry);
  if (options.shell !== undefined) {
    const shell = options.shell;
    // Per (queue, target): runs counted since the last read, handed to the prom-client counters
    // when they are read (their `collect`). An `inc()` per event hashes a label object each time
    // (~0.4 µs); adding a number here is free, and a scrape pays once per label set, not per job.
    // The series are made on a tally's first use, after the histograms below exist.
    const tallies = new Tallies((queue, target) => ({
      duration: duration.labels(queue, target),
      latency: latency.labels(queue),
    }));
    // Reads a tally's count of `field` and starts it again from zero.
    const counter = (name: string, help: string, field: CountedField): void => {
      new Counter({
        name,
        help,
        labelNames: labels,
        registers: [registry],
        collect() {
          for (const t of tallies.all()) {
            const n = t[field];
            t[field] = 0;
            if (n > 0) this.inc({ queue: t.queue, target: t.target }, n);
          }
        },
      });
    };
    counter('oddjob_jobs_started_total', 'Job runs started by this process', 'started');
    counter('oddjob_jobs_succeeded_total', 'Job runs that succeeded (done written)', 'succeeded');
    counter('oddjob_jobs_failed_total', 'Jobs failed for good (failed written)', 'failed');
    counter('oddjob_jobs_retried_total', 'Job runs that failed and were scheduled again', 'retried');
    const duration = new BucketHistogram(
      'oddjob_job_run_duration_seconds',
      'From the start of a run to its written outcome',
      labels,
      options.durationBuckets ?? DEFAULT_BUCKETS,
      registry,
    );
    const latency = new BucketHistogram(
      'oddjob_job_start_latency_seconds',
      'From the time a job became due (the later of createdAt and runAt) to the start of its run',
      ['queue'],
      options.latencyBuckets ?? DEFAULT_BUCKETS,
      registry,
    );
    // Run durations come with the outcome events (the executor's clock, from the method's start to
    // the stored outcome), so nothing is kept per job here.
    shell.on('job:started', ({ queue, job }) => {
      const tally = tallies.of(queue, job.target);
      tally.started++;
      const due = Math.max(job.createdAt.getTime(), job.runAt.getTime());
      tally.latency.observe(Math.max(0, now() - due) / 1000);
    });
    const finish = (tally: Tally, durationMs: number | null): void => {
      if (durationMs !== null) tally.duration.observe(durationMs / 1000);
    };
    shell.on('job:succeeded', ({ queue, job, durationMs }) => {
      const tally = tallies.of(queue, job.target);
      tally.succeeded++;
      finish(tally, durationMs);
    });
    shell.on('job:retry', ({ queue, job, durationMs }) => {
      const tally = tallies.of(queue, job.target);
      tally.retried++;
      finish(tally, durationMs);
    });
    shell.on('job:failed', ({ queue, job, durationMs }) => {
      const tally = tallies.of(queue, job.target);
      tally.failed++;
      finish(tally, durationMs);
    });
  }

  if (options.admin !== undefined) registerStoreGauges(registry, options.admin, cacheMs, now);
  if (options.executors !== undefined) registerExecutorGauge(registry, options.executors, cacheMs, now);
  return registry;
}

/**
 * Executors registered in the store, by state: running, stopping, and stale (no heartbeat within
 * the registry's stale bound: probably dead). Every executor of the store counts, not only this
 * process: it is the "how many executors are alive" figure, so alert on it from one scrape target.
 */
function registerExecutorGauge(
  registry: Registry,
  executors: IExecutorRegistry,
  cacheMs: number,
  now: () => number,
): void {
  let cached: { at: number; value: Promise<Map<string, number>> } | undefined;
  let last = new Map<string, number>();
  new Gauge({
    name: 'oddjob_executors',
    help: 'Executors registered in the store, by state (running, stopping, stale)',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const t = now();
      if (cached === undefined || t - cached.at >= cacheMs) {
        const value = executors.listExecutors().then(
          (list) => {
            const counts = new Map<string, number>([
              ['running', 0],
              ['stopping', 0],
              ['stale', 0],
            ]);
            for (const e of list) {
              const state = e.stale ? 'stale' : e.state;
              counts.set(state, (counts.get(state) ?? 0) + 1);
            }
            return (last = counts);
          },
          () => last,
        );
        cached = { at: t, value };
      }
      const counts = await cached.value;
      this.reset();
      for (const [state, n] of counts) this.set({ state }, n);
    },
  });
}

/** What one (queue, target) did since the counters were last read, and its histogram series. */
/** The run counts a tally keeps, each handed to the counter of the same name. */
type CountedField = 'started' | 'succeeded' | 'retried' | 'failed';

interface Tally {
  readonly queue: string;
  readonly target: string;
  started: number;
  succeeded: number;
  retried: number;
  failed: number;
  readonly duration: HistogramSeries;
  readonly latency: HistogramSeries;
}

/**
 * The tallies by queue and target, with the last one used kept aside: one queue and one target
 * usually run many jobs in a row, so most lookups are two string comparisons. Never trimmed: a
 * tally holds counts not yet read, and prom-client keeps a labelled child per label set anyway.
 */
class Tallies {
  private readonly byQueue = new Map<string, Map<string, Tally>>();
  private last: Tally | undefined;

  constructor(
    private readonly series: (queue: string, target: string) => { duration: HistogramSeries; latency: HistogramSeries },
  ) {}

  of(queue: string, target: string): Tally {
    const last = this.last;
    if (last !== undefined && last.queue === queue && last.target === target) return last;
    let byTarget = this.byQueue.get(queue);
    if (byTarget === undefined) this.byQueue.set(queue, (byTarget = new Map<string, Tally>()));
    let tally = byTarget.get(target);
    if (tally === undefined) {
      const { duration, latency } = this.series(queue, target);
      tally = { queue, target, started: 0, succeeded: 0, retried: 0, failed: 0, duration, latency };
      byTarget.set(target, tally);
    }
    return (this.last = tally);
  }

  *all(): Iterable<Tally> {
    for (const byTarget of this.byQueue.values()) yield* byTarget.values();
  }
}

/** The enqueued counter of a registry (made on first use), shared by collectMetrics and countedAdder. */
export function enqueuedCounter(registry: Registry): Counter<'queue' | 'target'> {
  const existing = registry.getSingleMetric(ENQUEUED_COUNTER);
  if (existing !== undefined) return existing as Counter<'queue' | 'target'>;
  return new Counter({
    name: ENQUEUED_COUNTER,
    help: 'Jobs enqueued through a counted adder',
    labelNames: ['queue', 'target'],
    registers: [registry],
  });
}

function registerStoreGauges(registry: Registry, admin: IJobQueueAdmin, cacheMs: number, now: () => number): void {
  let cached: { at: number; value: Promise<StoreSnapshot> } | undefined;
  const errors = new Counter({
    name: 'oddjob_metrics_store_errors_total',
    help: 'Scrapes whose read of the store failed (gauges keep their last values)',
    registers: [registry],
  });
  let last: StoreSnapshot = { counts: [], oldest: new Map() };
  // One promise per interval, shared by every gauge and every concurrent scrape.
  const snapshot = (): Promise<StoreSnapshot> => {
    const t = now();
    if (cached === undefined || t - cached.at >= cacheMs) {
      const value = readStore(admin, now).then(
        (s) => (last = s),
        () => {
          errors.inc();
          return last;
        },
      );
      cached = { at: t, value };
    }
    return cached.value;
  };
  new Gauge({
    name: 'oddjob_jobs_waiting',
    help: 'Jobs in status new or retry, per queue (includes jobs whose runAt is still to come)',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      const s = await snapshot();
      this.reset();
      for (const [queue, n] of sumBy(s.counts, (c) => c.status === 'new' || c.status === 'retry'))
        this.set({ queue }, n);
    },
  });
  new Gauge({
    name: 'oddjob_jobs_running',
    help: 'Jobs in status processing (claimed by any executor), per queue',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      const s = await snapshot();
      this.reset();
      for (const [queue, n] of sumBy(s.counts, (c) => c.status === 'processing')) this.set({ queue }, n);
    },
  });
  new Gauge({
    name: 'oddjob_oldest_waiting_job_age_seconds',
    help: 'Age of the first job in status new by id (creation order), counted from the later of createdAt and runAt; an approximation',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      const s = await snapshot();
      this.reset();
      for (const [queue, age] of s.oldest) this.set({ queue }, age);
    },
  });
}

function sumBy(counts: readonly JobCount[], keep: (c: JobCount) => boolean): Map<string, number> {
  const out = new Map<string, number>();
  for (const c of counts) if (keep(c)) out.set(c.queue, (out.get(c.queue) ?? 0) + c.count);
  return out;
}

/**
 * One countJobs, then one listJobs (status new, limit 1) per queue that has new jobs: the admin API
 * has no "oldest waiting" query, and ids are time-ordered, so the first new job by id is the oldest
 * created one. A job created earlier with a later runAt can hide an older due one: an approximation.
 */
async function readStore(admin: IJobQueueAdmin, now: () => number): Promise<StoreSnapshot> {
  const counts = await admin.countJobs();
  const oldest = new Map<string, number>();
  const queues = [...new Set(counts.filter((c) => c.status === 'new' && c.count > 0).map((c) => c.queue))];
  await Promise.all(
    queues.map(async (queue) => {
      const [first] = await admin.listJobs({ status: 'new', queue, limit: 1 });
      if (first === undefined) return;
      const due = Math.max(first.createdAt.getTime(), first.runAt.getTime());
      oldest.set(queue, Math.max(0, now() - due) / 1000);
    }),
  );
  return { counts, oldest };
}
