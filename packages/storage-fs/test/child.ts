/**
 * A worker process for the multi-process and crash tests (compiled with the tests, never run by
 * mocha itself). Modes:
 *   claim <dir> <out> <owner> <leaseMs> <batch> [stopMarker|-] [clockOffsetMs]
 *     claims from queue "mp" through FileJobStore, appends each job's id to <out> before completing
 *     it, and exits when a claim comes back empty (and, if given, <stopMarker> exists). With an
 *     offset its clock runs that far ahead (to find other processes' leases expired).
 *   produce <dir> <count> <keyPrefix> <reverse:0|1>
 *     adds <count> jobs to queue "mp" with unique keys <keyPrefix><i>, in batches of 50.
 *   open <dir>
 *     opens the store; on a StoreSetupError prints its message to stderr and exits with 3.
 *   group <dir> <acks> <holdMarker> <holdAfterAcks>
 *     8 producers (addJobs of 3) and 2 claimers (claim 10 and claim claimBatchHint, record done) on queue "gc", appending
 *     "enq <ids>" / "done <ids>" to <acks> as each call is acknowledged. Once <holdAfterAcks> acks are
 *     written, every directory fsync from then on never returns, and soon after <holdMarker> is
 *     created holding the number of acks at the hold: the process then sits with batches renamed
 *     but not yet fsynced, for the test to kill it there.
 */
import { appendFileSync, existsSync, renameSync, writeFileSync } from 'node:fs';
import { StoreSetupError } from '@oddjob/core';
import { fsOps } from '../src/fs-ops.js';
import { FileJobStore, FileJobQueueAdder } from '../src/index.js';

async function claim(
  dir: string,
  out: string,
  owner: string,
  leaseMs: number,
  batch: number,
  stopMarker?: string,
  offsetMs = 0,
): Promise<void> {
  const clock = { now: () => new Date(Date.now() + offsetMs) };
  const store = await FileJobStore.open({ dir, retention: false, clock });
  for (;;) {
    const stopRequested = stopMarker === undefined || existsSync(stopMarker);
    const jobs = await store.claimJobs({ queues: ['mp'], limit: batch, owner, leaseMs });
    if (jobs.length === 0) {
      if (stopRequested) break;
      await new Promise((r) => setTimeout(r, 5));
      continue;
    }
    // "Executing" a job is recording that it ran; it happens before the outcome is stored, as in a
    // real executor, so a crash between the two is an execution whose result was never recorded.
    appendFileSync(out, jobs.map((j) => j.id + '\n').join(''));
    const results = await store.recordOutcomes(
      jobs.map((j) => ({ kind: 'done' as const, lease: { jobId: j.id, token: j.lease.token } })),
    );
    const lost = results.filter((r) => r !== 'ok').length;
    if (lost > 0) throw new Error(`${owner}: ${lost} completions refused though no lease can have expired`);
  }
  await store.close();
}

async function produce(dir: string, count: number, keyPrefix: string, reverse: boolean): Promise<void> {
  const store = await FileJobStore.open({ dir, retention: false });
  const adder = new FileJobQueueAdder(store);
  const order = Array.from({ length: count }, (_, i) => (reverse ? count - 1 - i : i));
  for (let i = 0; i < order.length; i += 50) {
    await adder.addJobs(
      order.slice(i, i + 50).map((n) => ({
        call: { target: 't', method: 'run', args: [n] },
        options: { queue: 'mp', uniqueKey: `${keyPrefix}${n}` },
      })),
    );
  }
  await store.close();
}

async function groupCommit(dir: string, acks: string, hold: string, holdAfter: number): Promise<void> {
  const store = await FileJobStore.open({ dir, retention: false });
  const adder = new FileJobQueueAdder(store);
  let acked = 0;
  let holding = false;
  const ack = (kind: 'enq' | 'done', ids: readonly string[]) => {
    if (ids.length === 0) return;
    appendFileSync(acks, `${kind} ${ids.join(' ')}\n`); // one line per acknowledged call
    acked++;
  };
  const realSync = fsOps.sync;
  fsOps.sync = (fh) => {
    if (!holding && acked >= holdAfter) {
      holding = true;
      // Given a moment, a store that acknowledged without its fsync would go on acknowledging; one
      // that waits can add only the acks of fsyncs completed before the hold. The marker says how
      // many acks there were when it began (written whole, by a rename, for the test to read).
      const heldAt = acked;
      setTimeout(() => {
        writeFileSync(`${hold}.tmp`, String(heldAt));
        renameSync(`${hold}.tmp`, hold);
      }, 500);
    }
    // Held: the renames of the batch that asked are done, its fsync never is. Nothing that needs
    // it may be acknowledged from here on.
    return holding ? new Promise<void>(() => undefined) : realSync(fh);
  };
  let n = 0;
  const producer = async () => {
    for (;;) {
      const batch = [0, 1, 2].map(() => ({
        call: { target: 't', method: 'run', args: [n++] },
        options: { queue: 'gc' },
      }));
      ack('enq', await adder.addJobs(batch));
    }
  };
  // One claimer takes small batches; the other what an executor on this store asks for (its
  // claimBatchHint): a batch of up to 100 renames then waits on one held fsync.
  const claimer = async (owner: string, limit: number) => {
    for (;;) {
      const jobs = await store.claimJobs({ queues: ['gc'], limit, owner, leaseMs: 600_000 });
      if (jobs.length === 0) {
        await new Promise((r) => setTimeout(r, 1));
        continue;
      }
      const checks = await store.recordOutcomes(
        jobs.map((j) => ({ kind: 'done' as const, lease: { jobId: j.id, token: j.lease.token } })),
      );
      ack(
        'done',
        jobs.filter((_, i) => checks[i] === 'ok').map((j) => j.id),
      );
    }
  };
  await Promise.all([
    ...Array.from({ length: 8 }, producer),
    claimer('gc-0', 10),
    claimer('gc-1', store.claimBatchHint),
  ]);
}

async function openOnly(dir: string): Promise<void> {
  try {
    await (await FileJobStore.open({ dir })).close();
  } catch (err) {
    if (!(err instanceof StoreSetupError)) throw err;
    process.stderr.write(err.message);
    process.exit(3);
  }
}

const [mode, ...args] = process.argv.slice(2);
const run =
  mode === 'claim'
    ? claim(
        args[0],
        args[1],
        args[2],
        Number(args[3]),
        Number(args[4]),
        args[5] === '-' ? undefined : args[5],
        Number(args[6] ?? 0),
      )
    : mode === 'produce'
      ? produce(args[0], Number(args[1]), args[2], args[3] === '1')
      : mode === 'open'
        ? openOnly(args[0])
        : mode === 'group'
          ? groupCommit(args[0], args[1], args[2], Number(args[3]))
          : Promise.reject(new Error(`unknown mode ${mode}`));
run.catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
