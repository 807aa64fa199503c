/**
 * `npm run bench -- sandbox`: what running a queue in worker threads costs. The same no-op jobs on
 * the memory store, once on the executor's event loop and once in a sandboxed queue (one thread per
 * worker), so the difference is the thread hop: a structured-clone message each way, the arguments
 * decoded in the thread, and the progress/log port. Env: SANDBOX_JOBS (default 20000), SANDBOX_WORKERS (4).
 */
import 'reflect-metadata';
import { MemoryJobStore } from '@oddjob/core';
import { JobExecutorShell, silentLogger, type QueueOptions } from '@oddjob/executor-actors';
import { nowMs, ranges, waitFor } from './race/measure.js';
import { NoopJob, registry } from './sandbox-jobs.js';

async function drain(jobs: number, options: QueueOptions): Promise<number> {
  const store = new MemoryJobStore();
  const adder = store.adder({ registry });
  for (const [from, to] of ranges(jobs, 1000)) {
    await adder.addJobs(
      Array.from({ length: to - from }, (_, k) => ({ target: NoopJob, call: (j: NoopJob) => j.run(from + k) })),
    );
  }
  const shell = new JobExecutorShell({ store, registry, logger: silentLogger });
  const t0 = nowMs();
  shell.startJobQueue('default', options);
  const left = async () =>
    (await store.countJobs()).filter((c) => c.status !== 'done').reduce((s, c) => s + c.count, 0);
  await waitFor('the queue to drain', async () => (await left()) === 0, { intervalMs: 5 });
  const ms = nowMs() - t0;
  await shell.shutdown({ timeoutMs: 5000 });
  return (jobs * 1000) / ms;
}

export async function main(): Promise<void> {
  const jobs = Number(process.env.SANDBOX_JOBS ?? 20000);
  const workers = Number(process.env.SANDBOX_WORKERS ?? 4);
  const module = new URL('./sandbox-jobs.js', import.meta.url);
  const inLoop = await drain(jobs, { workers, maxPending: workers * 50 });
  const threaded = await drain(jobs, { workers, maxPending: workers * 50, sandbox: { module } });
  console.log(`Sandbox: ${jobs} no-op jobs, ${workers} workers, memory store`);
  console.log(`| mode | jobs/s | µs per job |`);
  console.log(`| --- | ---: | ---: |`);
  console.log(`| event loop | ${Math.round(inLoop).toLocaleString('en-US')} | ${(1e6 / inLoop).toFixed(1)} |`);
  console.log(`| worker threads | ${Math.round(threaded).toLocaleString('en-US')} | ${(1e6 / threaded).toFixed(1)} |`);
  console.log(`Thread hop: about ${(1e6 / threaded - 1e6 / inLoop).toFixed(0)} µs of wall time per job.`);
}
