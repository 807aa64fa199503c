/**
 * Enqueue-to-start latency under a steady offered load, OddJob on the local PostgreSQL.
 *
 *   node bench/dist/src/steady.js [seconds=10] [fraction=0.5]
 *
 * 1. max: 20,000 preloaded no-op jobs drained by one executor (10 workers, maxPending 500,
 *    deleteDoneJobs, LISTEN/NOTIFY): the maximum processing rate R of this machine today.
 * 2. idle: 200 probes one by one every 5 ms, as the race's latency phase does (the physical floor:
 *    one NOTIFY plus one claim round trip).
 * 3. steady: a producer in another process offers `fraction` × R jobs/s for `seconds`, in a batch
 *    every 10 ms; each job carries the time its batch was sent, the executor's handler takes the
 *    time it started. Both are epoch times with sub-millisecond resolution on the same machine.
 *
 * Besides the percentiles it prints what the tail could come from: the executor process's event-loop
 * delay and GC pauses during the steady phase, and the size and duration of its claims and outcome
 * writes (timed by a wrapper around the store, so nothing in the product is instrumented for it).
 */
import 'reflect-metadata';
import { fork } from 'node:child_process';
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { JobRegistry, type ClaimRequest, type JobOutcome } from '@oddjob/core';
import { JobExecutorShell, silentLogger } from '@oddjob/executor-actors';
import { PostgresJobStore } from '@oddjob/storage-postgres';
import { nowMs, paced, percentile, perSec, ranges, waitFor } from './race/measure.js';
import { dropSchema } from './race/schema.js';

const PG_URL = process.env.RACE_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const SCHEMA = 'bench_steady';
const QUEUE = 'steady';
const PRELOAD = 20_000;
const TICK_MS = 10;

let handled = 0;
const latencies: number[] = [];

class SteadyJob {
  /** `t`: when the job's batch was sent (epoch ms), or null for the preloaded jobs of phase 1. */
  run(_i: number, t: number | null): void {
    const started = nowMs();
    handled++;
    if (t !== null) latencies.push(started - t);
  }
}

const registry = (): JobRegistry => new JobRegistry().register('steady', SteadyJob);

/** Sizes and durations of one kind of store call. */
class CallStats {
  readonly sizes: number[] = [];
  readonly durations: number[] = [];
  record(size: number, ms: number): void {
    this.sizes.push(size);
    this.durations.push(ms);
  }
  reset(): void {
    this.sizes.length = 0;
    this.durations.length = 0;
  }
  summary(): string {
    const n = this.sizes.length;
    if (n === 0) return 'none';
    const mean = this.sizes.reduce((a, b) => a + b, 0) / n;
    return `${n} calls, ${mean.toFixed(1)} jobs each, p50 ${percentile(this.durations, 50).toFixed(2)} ms, p99 ${percentile(this.durations, 99).toFixed(2)} ms, max ${Math.max(...this.durations).toFixed(2)} ms`;
  }
}

/** The store with its claims and outcome writes timed; every other member passes through. */
function timed(store: PostgresJobStore, claims: CallStats, writes: CallStats): PostgresJobStore {
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'claimJobs')
        return async (req: ClaimRequest) => {
          const t0 = performance.now();
          const jobs = await target.claimJobs(req);
          if (jobs.length > 0) claims.record(jobs.length, performance.now() - t0);
          return jobs;
        };
      if (prop === 'recordOutcomes')
        return async (outcomes: JobOutcome[]) => {
          const t0 = performance.now();
          const checks = await target.recordOutcomes(outcomes);
          writes.record(outcomes.length, performance.now() - t0);
          return checks;
        };
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** The producer process: offers `rate` jobs/s for `seconds`, a batch every TICK_MS, then exits. */
async function produce(rate: number, seconds: number): Promise<void> {
  const store = await PostgresJobStore.open({ connection: PG_URL, schema: SCHEMA, migrations: 'verify' });
  const adder = store.adder({ registry: registry() });
  const ticks = Math.round((seconds * 1000) / TICK_MS);
  let sent = 0;
  let late = 0;
  const start = nowMs();
  for (let k = 0; k < ticks; k++) {
    const due = start + k * TICK_MS;
    const wait = due - nowMs();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    else if (wait < -TICK_MS) late++;
    // Whole jobs per tick, spread so that the total over a second is the rate.
    const upTo = Math.round(((k + 1) * rate * TICK_MS) / 1000);
    const count = upTo - sent;
    if (count <= 0) continue;
    const t = nowMs();
    const specs = [];
    for (let i = 0; i < count; i++)
      specs.push({ target: SteadyJob, call: (j: SteadyJob) => j.run(sent + i, t), options: { queue: QUEUE } });
    await adder.addJobs(specs);
    sent += count;
  }
  await store.close();
  process.send?.({ sent, late, seconds: (nowMs() - start) / 1000 });
}

export async function main(args: string[] = process.argv.slice(2)): Promise<void> {
  const seconds = Number(args[0] ?? 10);
  const fraction = Number(args[1] ?? 0.5);
  if (!(seconds > 0) || !(fraction > 0 && fraction <= 1))
    throw new RangeError('usage: steady.js [seconds > 0] [fraction in (0, 1]]');
  await dropSchema(PG_URL, SCHEMA);
  const claims = new CallStats();
  const writes = new CallStats();
  const store = await PostgresJobStore.open({ connection: PG_URL, schema: SCHEMA, deleteDoneJobs: true });
  const reg = registry();
  const shell = new JobExecutorShell({ store: timed(store, claims, writes), registry: reg, logger: silentLogger });
  try {
    // 1. max rate
    const adder = store.adder({ registry: reg });
    for (const [from, to] of ranges(PRELOAD, 1000)) {
      const specs = [];
      for (let i = from; i < to; i++)
        specs.push({ target: SteadyJob, call: (j: SteadyJob) => j.run(i, null), options: { queue: QUEUE } });
      await adder.addJobs(specs);
    }
    const t0 = nowMs();
    shell.startJobQueue(QUEUE, {
      workers: 10,
      maxPending: 500,
      pulseMs: 1000,
      claimsInFlight: Number(process.env.ODDJOB_CLAIMS_IN_FLIGHT ?? 1),
    });
    await waitFor('the preloaded jobs to run', () => handled >= PRELOAD, { intervalMs: 5 });
    const maxRate = perSec(PRELOAD, nowMs() - t0);
    await new Promise((r) => setTimeout(r, 500)); // let the last outcome batch land

    // 2. idle probes
    latencies.length = 0;
    await paced(200, 5, async (i) => {
      await adder.addJob(SteadyJob, (j) => j.run(i, nowMs()), { queue: QUEUE });
    });
    await waitFor('the idle probes to run', () => latencies.length >= 200);
    const idle = [...latencies];

    // 3. steady load from another process
    latencies.length = 0;
    claims.reset();
    writes.reset();
    const rate = Math.round(maxRate * fraction);
    const loop = monitorEventLoopDelay({ resolution: 1 });
    const gcPauses: number[] = [];
    const gc = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) gcPauses.push(e.duration);
    });
    gc.observe({ entryTypes: ['gc'] });
    loop.enable();
    const producer = fork(fileURLToPath(import.meta.url), ['--produce', String(rate), String(seconds)]);
    const told = await new Promise<{ sent: number; late: number; seconds: number }>((resolve, reject) => {
      producer.once('message', (m) => resolve(m as { sent: number; late: number; seconds: number }));
      producer.once('exit', (code) => (code !== 0 ? reject(new Error(`producer exited with ${code}`)) : undefined));
    });
    await waitFor('the steady jobs to run', () => latencies.length >= told.sent, { timeoutMs: 60_000 });
    loop.disable();
    gc.disconnect();

    const ms = (v: number) => `${v.toFixed(2)} ms`;
    const line = (name: string, s: number[]) =>
      `${name}: n ${s.length}, p50 ${ms(percentile(s, 50))}, p90 ${ms(percentile(s, 90))}, p99 ${ms(percentile(s, 99))}, p99.9 ${ms(percentile(s, 99.9))}, max ${ms(Math.max(...s))}`;
    console.log(
      `\nOddJob on PostgreSQL, 10 workers, maxPending 500, LISTEN/NOTIFY (indicative: shared 2-core machine)`,
    );
    console.log(`max processing rate (20,000 preloaded): ${maxRate} jobs/s`);
    console.log(line('idle, one probe every 5 ms', idle));
    console.log(
      `steady: ${told.sent} jobs offered at ${rate}/s (${fraction} of max) over ${told.seconds.toFixed(1)} s by another process, a batch every ${TICK_MS} ms (${told.late} ticks late)`,
    );
    console.log(line('steady enqueue→start', latencies));
    console.log(
      `executor event-loop delay during steady: p50 ${ms(loop.percentile(50) / 1e6)}, p99 ${ms(loop.percentile(99) / 1e6)}, max ${ms(loop.max / 1e6)}`,
    );
    const gcTotal = gcPauses.reduce((a, b) => a + b, 0);
    console.log(
      `GC during steady: ${gcPauses.length} pauses, ${ms(gcTotal)} in all, max ${ms(gcPauses.length ? Math.max(...gcPauses) : 0)}`,
    );
    console.log(`claims during steady: ${claims.summary()}`);
    console.log(`outcome writes during steady: ${writes.summary()}`);
  } finally {
    await shell.shutdown({ timeoutMs: 5000 });
    await store.close();
    await dropSchema(PG_URL, SCHEMA);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const run = process.argv[2] === '--produce' ? produce(Number(process.argv[3]), Number(process.argv[4])) : main();
  run.catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
