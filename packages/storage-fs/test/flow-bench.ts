/**
 * What jobs that wait cost on the file store (not a test: run it by hand, after building):
 *   node packages/storage-fs/dist/test/flow-bench.js [jobs=2000]
 * Each row enqueues `jobs` jobs in batches of 100, then drains them with claims of up to 100 and
 * one recordOutcomes(done) per claim, and reports both rates. Rows: plain jobs (the baseline);
 * random priorities; a concurrency key per job (limit 1: every job admitted, each end a key pass);
 * one key of limit 10 (most jobs wait for a slot, each end admits the next); parent/child pairs
 * (each child released by its parent's end).
 */
import { performance } from 'node:perf_hooks';
import type { JobOptions } from '@oddjob/core';
import { FileJobStore } from '../src/index.js';
import { removeDir, tempDir } from './helpers.js';

const n = Number(process.argv[2] ?? 2000);
const call = (i: number) => ({ target: 't', method: 'run', args: [i] });

async function drain(store: FileJobStore): Promise<number> {
  let done = 0;
  for (let empty = 0; empty < 3;) {
    const jobs = await store.claimJobs({ queues: ['default'], limit: 100, owner: 'bench', leaseMs: 600_000 });
    if (jobs.length === 0) {
      empty++;
      continue;
    }
    empty = 0;
    await store.recordOutcomes(
      jobs.map((j) => ({ kind: 'done' as const, lease: { jobId: j.id, token: j.lease.token } })),
    );
    done += jobs.length;
  }
  return done;
}

async function row(name: string, specs: (add: FileJobStore) => Promise<void>): Promise<void> {
  const dir = await tempDir('oddjob-flow-bench-');
  const store = await FileJobStore.open({ dir, create: true, retention: false });
  try {
    const t0 = performance.now();
    await specs(store);
    const t1 = performance.now();
    const done = await drain(store);
    const t2 = performance.now();
    if (done !== n) throw new Error(`${name}: drained ${done} of ${n}`);
    console.log(
      `${name.padEnd(44)} enqueue ${String(Math.round((n / (t1 - t0)) * 1000)).padStart(6)} jobs/s   claim+done ${String(Math.round((n / (t2 - t1)) * 1000)).padStart(6)} jobs/s`,
    );
  } finally {
    await store.close();
    await removeDir(dir);
  }
}

async function batches(store: FileJobStore, options: (i: number) => JobOptions): Promise<void> {
  const adder = store.adder();
  for (let i = 0; i < n; i += 100) {
    await adder.addJobs(
      Array.from({ length: Math.min(100, n - i) }, (_, k) => ({ call: call(i + k), options: options(i + k) })),
    );
  }
}

await row('plain', (s) => batches(s, () => ({})));
await row('priority (random -5..5)', (s) => batches(s, (i) => ({ priority: ((i * 7919) % 11) - 5 })));
await row('a concurrency key per job (limit 1)', (s) => batches(s, (i) => ({ concurrencyKey: `k${i}` })));
await row('one key, limit 10 (most wait for a slot)', (s) =>
  batches(s, () => ({ concurrencyKey: 'one', concurrencyLimit: 10 })),
);
await row('parent + child pairs (child after parent)', async (s) => {
  const adder = s.adder();
  for (let i = 0; i < n; i += 100) {
    const specs = [];
    for (let k = 0; k < Math.min(100, n - i); k += 2)
      specs.push({ call: call(i + k) }, { call: call(i + k + 1), options: { after: [specs.length] } });
    await adder.addJobs(specs);
  }
});
