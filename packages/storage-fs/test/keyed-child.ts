/**
 * The worker of keyed-processes.test.ts (compiled with the tests, never run by mocha itself):
 *   keyed-child.js add <dir> <count> <key> <limit> <policy>
 *     adds <count> jobs of concurrency key <key> to queue "kp", all at once (concurrent addJob calls).
 *   keyed-child.js drain <dir> <log> <owner>
 *     claims from "kp" (2 at a time) until <dir>/stop exists and a claim comes back empty, appending
 *     "s <id>" when a job starts and "e <id>" just before its done is recorded, so the log's order is
 *     the order of starts and ends across processes.
 */
import { appendFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { AlreadyRunning } from '@oddjob/core';
import { FileJobStore } from '../src/index.js';

const [mode, dir, ...rest] = process.argv.slice(2);
const store = await FileJobStore.open({ dir, retention: false });
if (mode === 'add') {
  const [count, key, limit, policy] = rest;
  const adder = store.adder();
  await Promise.all(
    Array.from({ length: Number(count) }, (_, i) =>
      adder.addJob(
        { target: 't', method: 'run', args: [i] },
        {
          queue: 'kp',
          concurrencyKey: key,
          concurrencyLimit: Number(limit),
          alreadyRunning: policy as AlreadyRunning,
        },
      ),
    ),
  );
} else {
  const [log, owner] = rest;
  for (;;) {
    const jobs = await store.claimJobs({ queues: ['kp'], limit: 2, owner, leaseMs: 600_000 });
    if (jobs.length === 0) {
      if (existsSync(join(dir, 'stop'))) break;
      await new Promise((r) => setTimeout(r, 2));
      continue;
    }
    for (const j of jobs) appendFileSync(log, `s ${j.id}\n`);
    await new Promise((r) => setTimeout(r, 3));
    for (const j of jobs) appendFileSync(log, `e ${j.id}\n`);
    await store.recordOutcomes(
      jobs.map((j) => ({ kind: 'done' as const, lease: { jobId: j.id, token: j.lease.token } })),
    );
  }
}
await store.close();
