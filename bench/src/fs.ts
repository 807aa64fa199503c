/**
 * File store speed, against this machine's own disk limit measured in the same run.
 *
 *   node bench/dist/src/fs.js [jobs=5000] [dir=<os tmp>]
 *
 * - raw limit: the pattern every durable write of the store is built on, done by hand, one at a
 *   time: write a temp file (~400 bytes) + fsync + rename into a directory + fsync the directory.
 * - enqueue: addJob one at a time (each acknowledged = durable); 16 concurrent addJob (the store
 *   shares directory fsyncs among concurrent writers); addJobs in batches of 100.
 * - claim+complete: getJobs(limit B) then recordOutcomes(done) for the batch, until the queue is
 *   empty; both steps durable (the claim counts an attempt, so it is fsynced too).
 * - executor: no-op jobs through JobExecutorShell (10 workers) on the file store, end to end.
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

interface Row {
  measure: string;
  jobs: number;
  seconds: number;
  perSecond: number;
}

const PAYLOAD = JSON.stringify({ format: 1, id: '0190d5a2-0000-7000-8000-000000000000', queue: 'default', target: 'noop', method: 'run', args: '{"json":[1]}', pad: 'x'.repeat(250) });
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
    const jobs = await store.getJobs({ queues: ['default'], limit: batch, owner: 'bench', leaseMs: 60_000 });
    if (jobs.length === 0) return n;
    const results = await store.recordOutcomes(jobs.map((j) => ({ kind: 'done' as const, lease: { jobId: j.id, token: j.lease.token } })));
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
  const shell = new JobExecutorShell({ manager: store, registry, containers: newInstanceFactory, coordinator: CountingCoordinator, logger: silentLogger });
  const row = await timed('executor: 10 workers, no-op jobs, end to end', n, async () => {
    shell.startJobQueue('default', { workers: 10, pulseMs: 100 });
    await allDone;
  });
  await shell.shutdown();
  await store.close();
  return row;
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
    rows.push(await timed('enqueue: addJob, one at a time', singles, async () => {
      for (let i = 0; i < singles; i++) await adder.addJob(call(i));
    }));
    await store.close();

    store = await freshStore(base, 'concurrent');
    adder = new FileJobQueueAdder(store);
    rows.push(await timed('enqueue: addJob, 16 concurrent callers', n, async () => {
      let next = 0;
      await Promise.all(Array.from({ length: 16 }, async () => {
        while (next < n) await adder.addJob(call(next++));
      }));
    }));
    await store.close();

    store = await freshStore(base, 'batch');
    adder = new FileJobQueueAdder(store);
    rows.push(await timed('enqueue: addJobs, batches of 100', n, async () => {
      for (let i = 0; i < n; i += 100) await adder.addJobs(Array.from({ length: Math.min(100, n - i) }, (_, k) => ({ call: call(i + k) })));
    }));
    await store.close();

    for (const batch of [1, 20, 100]) {
      store = await freshStore(base, `claim-${batch}`);
      const jobs = batch === 1 ? Math.min(n, 2000) : n;
      await preload(new FileJobQueueAdder(store), jobs);
      rows.push(await timed(`claim+complete: batches of ${batch}`, jobs, async () => {
        const got = await claimAndComplete(store, batch);
        if (got !== jobs) throw new Error(`claimed ${got} of ${jobs}`);
      }));
      await store.close();
    }

    rows.push(await executorEndToEnd(base, n));

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
    console.log('"vs raw limit" > 0.5× meets the target (within 2× of the disk); > 1× means fsyncs were shared or batched.');
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
