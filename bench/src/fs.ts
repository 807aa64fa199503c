/**
 * File store speed, against this machine's own disk limit measured in the same run.
 *
 *   node bench/dist/src/fs.js [jobs=5000] [dir=<os tmp>]
 *
 * - raw limit: the pattern every durable write of the store is built on, done by hand, one at a
 *   time: write a temp file (~400 bytes) + fsync + rename into a directory + fsync the directory.
 * - enqueue: addJob one at a time (each acknowledged = durable); 16 concurrent addJob (the store
 *   shares directory fsyncs among concurrent writers); addJobs in batches of 100.
 * - claim+complete: claimJobs(limit B) then recordOutcomes(done) for the batch, until the queue is
 *   empty; both steps durable (the claim counts an attempt, so it is fsynced too).
 * - executor: no-op jobs through JobExecutorShell (10 workers) on the file store, end to end.
 * - SQLite anchor (fs-sqlite.ts): the same job count enqueued one at a time, then drained with the
 *   same 10 workers, by plainjob on better-sqlite3 in a database beside the store (same disk), with
 *   synchronous=FULL (durable per commit, like the file store) and NORMAL (what plainjob sets). It is
 *   why the bench workspace depends on plainjob and better-sqlite3.
 *
 * Figures are indicative: the development machine is a shared 2-core VM whose disk is shared too.
 */
import 'reflect-metadata';
import { mkdir, mkdtemp, open, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { JobRegistry, newInstanceFactory, type ClaimedJob, type JobCall } from '@oddjob/core';
import { JobExecutorShell, JobQueueCoordinator, silentLogger, type CoordinatorInit } from '@oddjob/executor-actors';
import { FileJobQueueAdder, FileJobStore } from '@oddjob/storage-fs';
import { sqliteAnchor, type AnchorResult } from './fs-sqlite.js';

interface Row {
  measure: string;
  jobs: number;
  seconds: number;
  perSecond: number;
}

const PAYLOAD = JSON.stringify({
  format: 1,
  id: '0190d5a2-0000-7000-8000-000000000000',
  queue: 'default',
  target: 'noop',
  method: 'run',
  args: '{"json":[1]}',
  pad: 'x'.repeat(250),
});
/** The executor's workers, and the SQLite anchor's concurrency: the same for both. */
const WORKERS = 10;
const call = (n: number): JobCall => ({ target: 'noop', method: 'run', args: [n] });

async function timed(measure: string, jobs: number, fn: () => Promise<void>): Promise<Row> {
  const t0 = performance.now();
  await fn();
  const seconds = (performance.now() - t0) / 1000;
  return { measure, jobs, seconds, perSecond: jobs / seconds };
}

/** The disk's limit for one durable "write temp + fsync + rename + fsync dir" operation. */
async function rawLimit(base: string, n: number): Promise<Row> {
  const dir = join(base, 'raw');
  const tmp = join(base, 'raw-tmp');
  await mkdir(dir);
  await mkdir(tmp);
  const dirHandle = await open(dir, 'r');
  try {
    return await timed('raw limit: temp + fsync + rename + fsync dir', n, async () => {
      for (let i = 0; i < n; i++) {
        const path = join(tmp, `t${i}`);
        const fh = await open(path, 'wx');
        await fh.writeFile(PAYLOAD);
        await fh.datasync();
        await fh.close();
        await rename(path, join(dir, `f${i}`));
        await dirHandle.sync();
      }
    });
  } finally {
    await dirHandle.close();
  }
}

async function freshStore(base: string, name: string): Promise<FileJobStore> {
  return FileJobStore.open({ dir: join(base, name), create: true, retention: false });
}

async function claimAndComplete(store: FileJobStore, batch: number): Promise<number> {
  let n = 0;
  for (;;) {
    const jobs = await store.claimJobs({ queues: ['default'], limit: batch, owner: 'bench', leaseMs: 60_000 });
    if (jobs.length === 0) return n;
    const results = await store.recordOutcomes(
      jobs.map((j) => ({ kind: 'done' as const, lease: { jobId: j.id, token: j.lease.token } })),
    );
    if (results.some((r) => r !== 'ok')) throw new Error('a completion was refused');
    n += jobs.length;
  }
}

async function preload(adder: FileJobQueueAdder, n: number): Promise<void> {
  for (let i = 0; i < n; i += 500) {
    await adder.addJobs(Array.from({ length: Math.min(500, n - i) }, (_, k) => ({ call: call(i + k) })));
  }
}

class NoopJob {
  async run(_n: number): Promise<void> {}
}

let finished = 0;
let target = 0;
let onFinished: (() => void) | null = null;

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

async function executorEndToEnd(base: string, n: number): Promise<Row> {
  const store = await freshStore(base, 'executor');
  const registry = new JobRegistry().register('noop', NoopJob);
  await preload(new FileJobQueueAdder(store, { registry }), n);
  finished = 0;
  target = n;
  const allDone = new Promise<void>((resolve) => (onFinished = resolve));
  const shell = new JobExecutorShell({
    manager: store,
    registry,
    containers: newInstanceFactory,
    coordinator: CountingCoordinator,
    logger: silentLogger,
  });
  const row = await timed(`executor: ${WORKERS} workers, no-op jobs, end to end`, n, async () => {
    shell.startJobQueue('default', { workers: WORKERS, pulseMs: 100 });
    await allDone;
  });
  await shell.shutdown();
  await store.close();
  return row;
}

/** The file store beside the SQLite anchor: enqueue one at a time, then drain with the same workers. */
function printAnchor(enqueue: Row, executor: Row, anchors: AnchorResult[]): void {
  console.log(
    `\nSQLite anchor beside the file store (same disk, ${WORKERS} workers, no-op jobs, enqueue one at a time)`,
  );
  const table: Record<string, string | number>[] = [
    {
      store: 'storage-fs (every acknowledged write fsynced)',
      jobs: executor.jobs,
      'enqueue jobs/s': Math.round(enqueue.perSecond),
      'process jobs/s': Math.round(executor.perSecond),
    },
  ];
  for (const a of anchors) {
    switch (a.kind) {
      case 'ran':
        table.push({
          store: `plainjob 0.0.14 / better-sqlite3 12, WAL, synchronous=${a.synchronous}`,
          jobs: a.jobs,
          'enqueue jobs/s': Math.round(a.jobs / a.enqueueSeconds),
          'process jobs/s': Math.round(a.jobs / a.processSeconds),
        });
        break;
      case 'skipped':
        console.log(`SQLite anchor (synchronous=${a.synchronous}) skipped: ${a.reason}`);
        break;
    }
  }
  console.table(table);
  console.log(
    'storage-fs enqueue is addJob one at a time (first 2,000); process is the executor end to end. FULL fsyncs every commit (like-for-like); NORMAL is what plainjob sets and can lose the last commits on power loss.',
  );
}

export async function main(args: string[] = process.argv.slice(2)): Promise<Row[]> {
  const n = Number(args[0] ?? 5000);
  const base = await mkdtemp(join(args[1] ?? tmpdir(), 'oddjob-fs-bench-'));
  const rows: Row[] = [];
  try {
    const raw = await rawLimit(base, Math.min(n, 2000));
    rows.push(raw);

    let store = await freshStore(base, 'single');
    let adder = new FileJobQueueAdder(store);
    const singles = Math.min(n, 2000);
    const oneAtATime = await timed('enqueue: addJob, one at a time', singles, async () => {
      for (let i = 0; i < singles; i++) await adder.addJob(call(i));
    });
    rows.push(oneAtATime);
    await store.close();

    store = await freshStore(base, 'concurrent');
    adder = new FileJobQueueAdder(store);
    rows.push(
      await timed('enqueue: addJob, 16 concurrent callers', n, async () => {
        let next = 0;
        await Promise.all(
          Array.from({ length: 16 }, async () => {
            while (next < n) await adder.addJob(call(next++));
          }),
        );
      }),
    );
    await store.close();

    store = await freshStore(base, 'batch');
    adder = new FileJobQueueAdder(store);
    rows.push(
      await timed('enqueue: addJobs, batches of 100', n, async () => {
        for (let i = 0; i < n; i += 100)
          await adder.addJobs(Array.from({ length: Math.min(100, n - i) }, (_, k) => ({ call: call(i + k) })));
      }),
    );
    await store.close();

    for (const batch of [1, 20, 100]) {
      store = await freshStore(base, `claim-${batch}`);
      const jobs = batch === 1 ? Math.min(n, 2000) : n;
      await preload(new FileJobQueueAdder(store), jobs);
      rows.push(
        await timed(`claim+complete: batches of ${batch}`, jobs, async () => {
          const got = await claimAndComplete(store, batch);
          if (got !== jobs) throw new Error(`claimed ${got} of ${jobs}`);
        }),
      );
      await store.close();
    }

    const executor = await executorEndToEnd(base, n);
    rows.push(executor);

    const anchors: AnchorResult[] = [];
    for (const synchronous of ['FULL', 'NORMAL'] as const)
      anchors.push(await sqliteAnchor(base, n, WORKERS, synchronous));

    console.log(`\nstorage-fs on ${base} (indicative: shared 2-core VM; the raw limit was measured in this run)`);
    console.table(
      rows.map((r) => ({
        measure: r.measure,
        jobs: r.jobs,
        seconds: r.seconds.toFixed(2),
        'jobs/s': Math.round(r.perSecond),
        'vs raw limit': r === raw ? '1.00×' : `${(r.perSecond / raw.perSecond).toFixed(2)}×`,
      })),
    );
    console.log(
      '"vs raw limit" > 0.5× meets the target (within 2× of the disk); > 1× means fsyncs were shared or batched.',
    );
    printAnchor(oneAtATime, executor, anchors);
    return rows;
  } finally {
    await rm(base, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
