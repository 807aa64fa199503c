/**
 * `npm run bench -- scale`: processing rate with 1, 2 and 4 executor processes sharing one store,
 * on PostgreSQL and on one file-store directory, in one run.
 *
 * Each step pre-fills the queue, starts N processes (scale-worker.ts) and waits until each has opened
 * the store, then tells them all to start at once and times the drain. Besides jobs/s it reports CPU
 * per job, split into the executor processes (Node) and PostgreSQL: on a 2-core machine the rate
 * flattens once Node and PostgreSQL together use both cores, and the CPU split says which side
 * spends them. Env: SCALE_PG_JOBS (default 20000), SCALE_FS_JOBS (default 4000), SCALE_PROCESSES
 * (default "1,2,4"), SCALE_WORKERS (workers per process, default 10), SCALE_ONLY (pg or fs).
 */
import 'reflect-metadata';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JobCall } from '@oddjob/core';
import { FileJobStore } from '@oddjob/storage-fs';
import { PostgresJobStore } from '@oddjob/storage-postgres';
import { nowMs, postgresCpuUs, ranges, waitFor } from './race/measure.js';
import { dropSchema } from './race/schema.js';

const WORKER = fileURLToPath(new URL('./scale-worker.js', import.meta.url));
const PG_URL = process.env.RACE_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const SCHEMA = 'bench_scale';
const call = (n: number): JobCall => ({ target: 'noop', method: 'run', args: [n] });

interface Step {
  store: 'pg' | 'fs';
  processes: number;
  jobsPerSec: number;
  nodeUsPerJob: number;
  postgresUsPerJob: number;
}

function intList(name: string, fallback: string): number[] {
  const values = (process.env[name] ?? fallback).split(',').map(Number);
  if (values.some((v) => !Number.isInteger(v) || v < 1))
    throw new Error(`${name} must be a comma list of integers ≥ 1`);
  return values;
}

/** utime + stime of one process, µs (its own, not its children's). */
function processCpuUs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / 100; // USER_HZ is 100 on Linux
}

function startWorker(args: readonly string[]): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WORKER, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`scale worker exited early (${code})`)));
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve(child);
    });
  });
}

async function step(
  kind: 'pg' | 'fs',
  processes: number,
  jobs: number,
  workerArgs: readonly string[],
  remaining: () => Promise<number>,
): Promise<Step> {
  const children = await Promise.all(Array.from({ length: processes }, () => startWorker(workerArgs)));
  try {
    const nodeStart = children.map((c) => processCpuUs(c.pid!));
    const pgStart = postgresCpuUs();
    const t0 = nowMs();
    for (const child of children) child.stdin!.write('go\n');
    await waitFor(`${processes} ${kind} executor(s) to drain the queue`, async () => (await remaining()) === 0, {
      intervalMs: 20,
      timeoutMs: 600_000,
    });
    const ms = nowMs() - t0;
    const node = children.reduce((sum, c, i) => sum + processCpuUs(c.pid!) - nodeStart[i], 0);
    const pgUs = postgresCpuUs() - pgStart;
    return {
      store: kind,
      processes,
      jobsPerSec: (jobs * 1000) / ms,
      nodeUsPerJob: node / jobs,
      postgresUsPerJob: kind === 'pg' ? pgUs / jobs : Number.NaN,
    };
  } finally {
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            c.removeAllListeners('exit');
            c.once('exit', () => resolve());
            c.kill('SIGTERM');
          }),
      ),
    );
  }
}

async function pgSteps(counts: readonly number[], jobs: number, workers: number): Promise<Step[]> {
  const out: Step[] = [];
  for (const n of counts) {
    await dropSchema(PG_URL, SCHEMA);
    const store = await PostgresJobStore.open({ connection: PG_URL, schema: SCHEMA, deleteDoneJobs: true });
    try {
      const adder = store.adder();
      for (const [from, to] of ranges(jobs, 1000))
        await adder.addJobs(Array.from({ length: to - from }, (_, k) => ({ call: call(from + k) })));
      const left = async () =>
        (await store.countJobs()).filter((c) => c.status !== 'done').reduce((s, c) => s + c.count, 0);
      out.push(await step('pg', n, jobs, ['pg', PG_URL, SCHEMA, String(workers)], left));
    } finally {
      await store.close();
      await dropSchema(PG_URL, SCHEMA);
    }
  }
  return out;
}

async function fsSteps(counts: readonly number[], jobs: number, workers: number): Promise<Step[]> {
  const out: Step[] = [];
  for (const n of counts) {
    const dir = await mkdtemp(join(tmpdir(), 'oddjob-scale-'));
    const store = await FileJobStore.open({ dir, create: true, retention: false });
    try {
      const adder = store.adder();
      for (const [from, to] of ranges(jobs, 500))
        await adder.addJobs(Array.from({ length: to - from }, (_, k) => ({ call: call(from + k) })));
      const left = async () =>
        (await store.countJobs()).filter((c) => c.status !== 'done').reduce((s, c) => s + c.count, 0);
      out.push(await step('fs', n, jobs, ['fs', dir, '-', String(workers)], left));
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  }
  return out;
}

const fmt = (n: number, digits = 0) =>
  Number.isNaN(n) ? 'n/a' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

export async function main(): Promise<Step[]> {
  const counts = intList('SCALE_PROCESSES', '1,2,4');
  const workers = intList('SCALE_WORKERS', '10')[0];
  const only = process.env.SCALE_ONLY;
  const pgJobs = intList('SCALE_PG_JOBS', '20000')[0];
  const fsJobs = intList('SCALE_FS_JOBS', '4000')[0];
  const steps: Step[] = [];
  if (only !== 'fs') steps.push(...(await pgSteps(counts, pgJobs, workers)));
  if (only !== 'pg') steps.push(...(await fsSteps(counts, fsJobs, workers)));
  console.log(`Scale-out: ${workers} workers per process; PostgreSQL ${pgJobs} jobs, file store ${fsJobs} jobs\n`);
  console.log('| store | processes | jobs/s | vs 1 process | CPU/job Node (µs) | CPU/job PostgreSQL (µs) |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const s of steps) {
    const one = steps.find((o) => o.store === s.store && o.processes === counts[0]);
    console.log(
      `| ${s.store} | ${s.processes} | ${fmt(s.jobsPerSec)} | ${fmt(s.jobsPerSec / (one?.jobsPerSec ?? s.jobsPerSec), 2)}× | ${fmt(s.nodeUsPerJob, 1)} | ${fmt(s.postgresUsPerJob, 1)} |`,
    );
  }
  return steps;
}
