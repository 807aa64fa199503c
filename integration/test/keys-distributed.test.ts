import 'reflect-metadata';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IJobQueueAdmin, JobCall, JobQueueAdder } from '@oddjob/core';
import { FileJobStore } from '@oddjob/storage-fs';
import { PostgresJobStore } from '@oddjob/storage-postgres';
import { expect } from 'chai';
import type pg from 'pg';
import type { KeyedRunLine, KeyedWorkerConfig } from './fixtures/keyed-worker.js';
import { adminPool, dropSchema, PG_URL, requirePostgres, uniqueSchema } from './pg.js';
import { waitFor } from './wait.js';
import { killAll, stopGracefully, waitReady, WorkerProcess } from './workers.js';

const KEYED_WORKER_JS = fileURLToPath(new URL('./fixtures/keyed-worker.js', import.meta.url));
const QUEUE = 'keys';
const JOBS = 2_000;
const KEYS = 20;
/** Long enough that a second run of a key started early would overlap the first. */
const RUN_MS = 10;

type Store = IJobQueueAdmin & { adder(): JobQueueAdder; close(): Promise<void> };

interface Provider {
  name: string;
  setUp(
    ctx: Mocha.Context,
  ): Promise<{ store: Store; config: Pick<KeyedWorkerConfig, 'store' | 'url' | 'schema' | 'dir'> }>;
  tearDown(): Promise<void>;
}

/**
 * Concurrency keys across processes (flow.ts): 3 executor processes on one store, 2,000 jobs over 20
 * keys of limit 1. Each run logs its start and end (wall clock, to the microsecond) from its own
 * process; the overlap detector then checks that no two runs of one key ever overlapped, and that
 * every job ran. One process is SIGKILLed while it holds keys: its runs are cut short (their end is
 * the kill), its keys stay held until their leases expire, and then another process runs those jobs
 * again and the keys move on.
 */
for (const provider of providers()) {
  describe(`concurrency keys across processes: ${provider.name}`, function () {
    this.timeout(180_000);
    let workers: WorkerProcess[] = [];
    let store: Store | null = null;
    let logDir: string | null = null;

    afterEach(async function () {
      await killAll(workers);
      workers = [];
      await store?.close();
      store = null;
      await provider.tearDown();
      if (logDir !== null) await rm(logDir, { recursive: true, force: true });
      logDir = null;
    });

    it('2,000 jobs over 20 keys of limit 1: no two runs of a key overlap, every job runs, a SIGKILL frees its keys after their leases', async function () {
      const set = await provider.setUp(this);
      store = set.store;
      logDir = await mkdtemp(join(tmpdir(), 'oj-keys-log-'));
      const configs: KeyedWorkerConfig[] = [0, 1, 2].map((i) => ({
        ...set.config,
        label: `k${i}`,
        owner: `keys-k${i}-${process.pid}`,
        queue: QUEUE,
        workers: 8,
        maxPending: 16,
        leaseMs: 2_000,
        pulseMs: 200,
        logFile: join(logDir!, `k${i}.jsonl`),
      }));
      for (const c of configs) await writeFile(c.logFile, '');
      workers = configs.map((c) => new WorkerProcess(c, KEYED_WORKER_JS));
      await waitReady(workers);

      const adder = store.adder();
      const ids: string[] = [];
      for (let i = 0; i < JOBS; i += 500) {
        const specs = Array.from({ length: 500 }, (_, k) => {
          const key = `key-${(i + k) % KEYS}`;
          const call: JobCall = { target: 'it.keyed', method: 'run', args: [key, RUN_MS] };
          return {
            call,
            options: {
              queue: QUEUE,
              concurrencyKey: key,
              retry: { maxAttempts: 5, backoff: { kind: 'fixed' as const, delayMs: 0 } },
            },
          };
        });
        ids.push(...(await adder.addJobs(specs)));
      }
      expect(new Set(ids).size).to.equal(JOBS);

      // Mid-run, kill a process while it holds keys (has keyed jobs processing under its lease). Its
      // jobs take 10 ms, so what it held at a look may be done by the kill: it is stopped (SIGSTOP)
      // first, and what it holds is read while it can write nothing; if that is nothing, it goes on
      // (SIGCONT) and the look is made again.
      const [victim, ...survivors] = workers as [WorkerProcess, ...WorkerProcess[]];
      const heldBy = async () =>
        (await store!.listJobs({ status: 'processing', queue: QUEUE, limit: 1000 }))
          .filter((j) => j.lease?.owner === victim.config.owner)
          .map((j) => j.id);
      let held: string[] = [];
      await waitFor(
        'the victim to hold keys mid-run',
        async () => {
          for (const w of workers) w.assertAlive();
          if ((await doneCount(store!)) < JOBS * 0.2 || (await heldBy()).length === 0) return false;
          victim.kill('SIGSTOP');
          held = await heldBy();
          if (held.length > 0) return true;
          victim.kill('SIGCONT');
          return false;
        },
        { timeoutMs: 60_000, intervalMs: 10 },
      );
      // What it holds now stays as it is, as a dead process writes nothing, until those leases expire.
      victim.kill('SIGKILL');
      await victim.exited;
      const killedAt = performance.timeOrigin + performance.now();

      await waitFor(
        `all ${JOBS} jobs to be done`,
        async () => {
          for (const w of survivors) w.assertAlive();
          return (await doneCount(store!)) === JOBS;
        },
        { timeoutMs: 120_000, intervalMs: 250, status: () => survivors.map((w) => w.tail(3)).join('\n') },
      );
      await stopGracefully(survivors);

      const runs = await readRuns(
        configs.map((c) => c.logFile),
        victim.label,
        killedAt,
      );
      const ranJobs = new Set(runs.map((r) => r.job));
      for (const id of ids) expect(ranJobs.has(id), `job ${id} never ran`).to.equal(true);
      const overlaps = findOverlaps(runs);
      expect(overlaps, 'runs of one key that overlapped').to.deep.equal([]);
      // Only jobs the victim held ran twice, the second time elsewhere after its lease expired.
      const byJob = new Map<string, Run[]>();
      for (const r of runs) byJob.set(r.job, [...(byJob.get(r.job) ?? []), r]);
      const twice = [...byJob].filter(([, rs]) => rs.length > 1);
      for (const [id, rs] of twice) {
        expect(held, `${id} ran twice but the victim did not hold it`).to.include(id);
        expect(rs.map((r) => r.worker === victim.label)).to.deep.equal([true, false]);
      }
      const victimKeys = new Set(runs.filter((r) => r.cut).map((r) => r.key));
      // Every job it held (claimed, under its lease) held its key's slot: those keys were freed only
      // by the lease expiring and another process running the job, which "every job ran" shows.
      expect(held.length, 'the victim held keyed jobs when killed').to.be.greaterThan(0);
      console.log(
        `      ${runs.length} runs, ${twice.length} run twice after the kill; the victim held ${held.length} jobs when killed, inside runs of ${victimKeys.size} keys`,
      );
    });
  });
}

interface Run {
  job: string;
  key: string;
  worker: string;
  start: number;
  end: number;
  /** Ended by the SIGKILL, not by the job. */
  cut: boolean;
}

/** Pairs each start with its end (same job, attempt, worker); a start with no end was cut by the kill. */
async function readRuns(files: readonly string[], victim: string, killedAt: number): Promise<Run[]> {
  const runs: Run[] = [];
  for (const file of files) {
    const lines = (await readFile(file, 'utf8'))
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l) as KeyedRunLine);
    const open = new Map<string, KeyedRunLine>();
    for (const line of lines) {
      const id = `${line.job}/${line.attempt}`;
      if (line.event === 'start') open.set(id, line);
      else {
        const start = open.get(id)!;
        open.delete(id);
        runs.push({ job: line.job, key: line.key, worker: line.worker, start: start.at, end: line.at, cut: false });
      }
    }
    for (const start of open.values()) {
      expect(start.worker, `a run on ${start.worker} never ended`).to.equal(victim);
      runs.push({ job: start.job, key: start.key, worker: start.worker, start: start.at, end: killedAt, cut: true });
    }
  }
  return runs;
}

/** Runs of one key whose intervals overlap, as readable strings ([] when none). */
function findOverlaps(runs: readonly Run[]): string[] {
  const byKey = new Map<string, Run[]>();
  for (const r of runs) byKey.set(r.key, [...(byKey.get(r.key) ?? []), r]);
  const found: string[] = [];
  for (const [key, rs] of byKey) {
    rs.sort((a, b) => a.start - b.start);
    for (let i = 1; i < rs.length; i++) {
      if (rs[i].start < rs[i - 1].end) {
        found.push(
          `${key}: ${rs[i - 1].job}@${rs[i - 1].worker} [${rs[i - 1].start}, ${rs[i - 1].end}] and ${rs[i].job}@${rs[i].worker} from ${rs[i].start}`,
        );
      }
    }
  }
  return found;
}

async function doneCount(store: IJobQueueAdmin): Promise<number> {
  return (await store.countJobs({ queue: QUEUE })).find((c) => c.status === 'done')?.count ?? 0;
}

function providers(): Provider[] {
  let admin: pg.Pool | null = null;
  let schema: string | null = null;
  let dir: string | null = null;
  return [
    {
      name: 'PostgreSQL',
      async setUp(ctx) {
        await requirePostgres(ctx);
        admin = adminPool();
        schema = uniqueSchema('keys');
        const store = await PostgresJobStore.open({
          connection: { connectionString: PG_URL, max: 2 },
          schema,
          onBackgroundError: () => undefined,
        });
        return { store, config: { store: 'pg', url: PG_URL, schema, dir: '' } };
      },
      async tearDown() {
        if (admin !== null && schema !== null) await dropSchema(admin, schema);
        await admin?.end();
        admin = null;
        schema = null;
      },
    },
    {
      name: 'file store',
      async setUp() {
        dir = await mkdtemp(join(tmpdir(), 'oj-keys-store-'));
        const store = await FileJobStore.open({ dir, create: true });
        return { store, config: { store: 'fs', url: '', schema: '', dir } };
      },
      async tearDown() {
        if (dir !== null) await rm(dir, { recursive: true, force: true });
        dir = null;
      },
    },
  ];
}
