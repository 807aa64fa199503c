/**
 * Program jobs: what running a console program as a job costs on top of spawning it.
 *
 *   node bench/dist/src/programs.js [runs=200]
 *
 * - spawn only: `/bin/true` spawned `runs` times one after another (child_process.spawn, no capture),
 *   the floor any program job pays;
 * - through the executor: `runs` jobs `programJob('true')` on MemoryJobStore, one worker (sequential,
 *   so it compares with the spawn-only figure) and four workers.
 * The difference per job is the program target's overhead: allow-list check, execa, process group,
 * output capture, the executor's claim and outcome.
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { JobRegistry, MemoryJobStore, Retry, type ClaimedJob } from '@oddjob/core';
import { JobExecutorShell, JobQueueCoordinator, silentLogger } from '@oddjob/executor-actors';
import { programJob, registerPrograms } from '@oddjob/programs';

async function spawnOnly(runs: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) {
    await new Promise<void>((resolve, reject) => {
      const c = spawn('/bin/true', [], { stdio: 'ignore' });
      c.once('error', reject);
      c.once('exit', () => resolve());
    });
  }
  return (performance.now() - t0) / 1000;
}

async function throughExecutor(runs: number, workers: number): Promise<number> {
  const registry = new JobRegistry();
  registerPrograms(registry, { true: { executable: '/bin/true' } });
  const store = new MemoryJobStore();
  let done = 0;
  let failed = 0;
  let finish!: () => void;
  const all = new Promise<void>((r) => (finish = r));
  class Counting extends JobQueueCoordinator {
    override onJobSuccess(_job: ClaimedJob): void {
      if (++done + failed === runs) finish();
    }
    override onJobFailed(): void {
      if (done + ++failed === runs) finish();
    }
  }
  const adder = store.adder({ registry });
  await adder.addJobs(
    Array.from({ length: runs }, () => ({
      call: programJob('true'),
      options: { queue: 'programs', retry: Retry.none() },
    })),
  );
  const shell = new JobExecutorShell({ manager: store, registry, logger: silentLogger, coordinator: Counting });
  const t0 = performance.now();
  shell.startJobQueue('programs', { workers, pulseMs: 50 });
  await all;
  const seconds = (performance.now() - t0) / 1000;
  await shell.shutdown();
  if (failed > 0) throw new Error(`${failed} program jobs failed`);
  return seconds;
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  const runs = Number(argv[0] ?? 200);
  await spawnOnly(20); // warm up
  const base = await spawnOnly(runs);
  const one = await throughExecutor(runs, 1);
  const four = await throughExecutor(runs, 4);
  const row = (what: string, s: number) =>
    `${what.padEnd(34)} ${(runs / s).toFixed(0).padStart(6)} jobs/s  ${((s * 1000) / runs).toFixed(2).padStart(7)} ms/job`;
  console.log(`program jobs: ${runs} runs of /bin/true`);
  console.log(row('spawn only (sequential)', base));
  console.log(row('executor, 1 worker', one));
  console.log(row('executor, 4 workers', four));
  console.log(`overhead per job over a bare spawn (1 worker): ${(((one - base) * 1000) / runs).toFixed(2)} ms`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
