/**
 * What concurrency keys and dependencies cost on PostgreSQL, against plain jobs, through the store
 * alone (no executor: claim, record done, repeat), so the figures are the store's statements:
 *
 *   npm run bench -- keyed   (or: node bench/dist/src/keyed-pg.js [jobs=20000] [rounds=3])
 *
 * Modes, interleaved per round: `plain` (no options), `keyed` (jobs spread over 20 keys of limit 1:
 * at most 20 claimable at once, each done admits the key's next), `chain` (jobs in 20 chains, each
 * job waiting for the one before it). Reported: enqueue and drain jobs/s (medians).
 * KEYED_WORKERS (default 4) claim loops of KEYED_BATCH (default 50) jobs each.
 */
import { pathToFileURL } from 'node:url';
import { PostgresJobStore } from '@oddjob/storage-postgres';
import type { JobSpec } from '@oddjob/core';
import { median, nowMs } from './race/measure.js';
import { dropSchema } from './race/schema.js';
import { intFromEnv } from './race/env.js';

const PG_URL = process.env.RACE_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const SCHEMA = 'bench_keyed';
const KEYS = 20;
type Mode = 'plain' | 'keyed' | 'chain';

async function enqueue(store: PostgresJobStore, mode: Mode, jobs: number): Promise<void> {
  const adder = store.adder();
  const batch = 1000;
  if (mode === 'chain') {
    // One batch per chain link level: link n of every chain waits for link n - 1 (by id).
    let previous: string[] = [];
    for (let level = 0; level < jobs / KEYS; level++) {
      const specs: JobSpec<unknown>[] = Array.from({ length: KEYS }, (_, c) => ({
        call: { target: 't', method: 'run', args: [level, c] },
        options: previous.length === 0 ? {} : { after: [previous[c]] },
      }));
      previous = await adder.addJobs(specs);
    }
    return;
  }
  for (let i = 0; i < jobs; i += batch) {
    await adder.addJobs(
      Array.from({ length: Math.min(batch, jobs - i) }, (_, k) => ({
        call: { target: 't', method: 'run', args: [i + k] },
        options: mode === 'keyed' ? { concurrencyKey: `key-${(i + k) % KEYS}` } : {},
      })),
    );
  }
}

async function drain(store: PostgresJobStore, jobs: number): Promise<void> {
  const workers = intFromEnv('KEYED_WORKERS', 4, 1);
  const limit = intFromEnv('KEYED_BATCH', 50, 1);
  let done = 0;
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      while (done < jobs) {
        const claimed = await store.claimJobs({ queues: ['default'], limit, owner: `w${w}`, leaseMs: 60_000 });
        if (claimed.length === 0) {
          await new Promise((r) => setTimeout(r, 1));
          continue;
        }
        await store.recordOutcomes(
          claimed.map((j) => ({ kind: 'done', lease: { jobId: j.id, token: j.lease.token } })),
        );
        done += claimed.length;
      }
    }),
  );
}

async function once(mode: Mode, jobs: number): Promise<{ enqueue: number; drain: number }> {
  await dropSchema(PG_URL, SCHEMA);
  const store = await PostgresJobStore.open({ connection: { connectionString: PG_URL, max: 8 }, schema: SCHEMA });
  try {
    const t0 = nowMs();
    await enqueue(store, mode, jobs);
    const t1 = nowMs();
    await drain(store, jobs);
    const t2 = nowMs();
    return { enqueue: jobs / ((t1 - t0) / 1000), drain: jobs / ((t2 - t1) / 1000) };
  } finally {
    await store.close();
  }
}

export async function main(args: string[] = process.argv.slice(2)): Promise<void> {
  const jobs = Number(args[0] ?? 20_000);
  const rounds = Number(args[1] ?? 3);
  const modes: Mode[] = ['plain', 'keyed', 'chain'];
  const all = new Map<Mode, { enqueue: number; drain: number }[]>(modes.map((m) => [m, []]));
  await once('plain', 2000); // warm-up
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < modes.length; k++) {
      const mode = modes[(r + k) % modes.length];
      const result = await once(mode, jobs);
      all.get(mode)!.push(result);
      console.log(
        `round ${r + 1} ${mode.padEnd(5)} enqueue ${result.enqueue.toFixed(0)} jobs/s, drain ${result.drain.toFixed(0)} jobs/s`,
      );
    }
  }
  console.log(`medians of ${rounds} rounds, ${jobs} jobs (${KEYS} keys of limit 1 / ${KEYS} chains):`);
  for (const m of modes) {
    const rs = all.get(m)!;
    console.log(
      `${m.padEnd(5)} enqueue ${median(rs.map((x) => x.enqueue)).toFixed(0)} jobs/s, drain ${median(rs.map((x) => x.drain)).toFixed(0)} jobs/s`,
    );
  }
  await dropSchema(PG_URL, SCHEMA);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
