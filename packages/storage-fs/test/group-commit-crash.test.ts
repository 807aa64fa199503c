import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import type { JobRecord } from '@oddjob/core';
import type { FileJobStore } from '../src/index.js';
import { discardStore, freshStore, jobFiles } from './helpers.js';
import { startChild, type Child } from './processes.js';

/** Every job of the store (listJobs pages at 10,000). */
async function allJobs(store: FileJobStore): Promise<JobRecord[]> {
  const out: JobRecord[] = [];
  for (;;) {
    const page = await store.listJobs({ limit: 10_000, afterId: out.at(-1)?.id });
    out.push(...page);
    if (page.length < 10_000) return out;
  }
}

describe('fs store: killed between a batch of writes and its fsync (group commit)', function () {
  this.timeout(300_000);
  let dir: string;
  let store: FileJobStore;
  let child: Child | null = null;

  beforeEach(async function () {
    // The survivor's clock is an hour ahead, past every lease the killed process held.
    ({ store, dir } = await freshStore({ clock: { now: () => new Date(Date.now() + 3_600_000) } }));
  });
  afterEach(async function () {
    if (child && child.proc.exitCode === null) child.proc.kill('SIGKILL');
    child = null;
    await discardStore({ store, dir });
  });

  it('every acknowledged enqueue and outcome survives SIGKILL, nothing is half-applied, and the rest runs once', async function () {
    const acks = join(dir, 'acks.txt');
    const hold = join(dir, 'holding.txt');
    await writeFile(acks, '');
    child = startChild(['group', dir, acks, hold, '300']);
    // The child holds every directory fsync once it has acknowledged 300 calls; its producers
    // and claimers keep renaming until each waits on a held fsync. Kill it there.
    while (!existsSync(hold)) {
      if (child.proc.exitCode !== null) throw new Error(`the child exited early: ${child.stderr()}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    child.proc.kill('SIGKILL');
    expect(await child.exited).to.equal('SIGKILL');

    const lines = (await readFile(acks, 'utf8')).split('\n').filter((l) => l.length > 0);
    const idsOf = (kind: string) => lines.filter((l) => l.startsWith(`${kind} `)).flatMap((l) => l.split(' ').slice(1));
    const enqueued = idsOf('enq');
    const done = idsOf('done');
    expect(enqueued.length).to.be.greaterThan(0);
    expect(done.length).to.be.greaterThan(0);
    // Once fsyncs were held, each of the child's 10 loops (8 producers, 2 claimers) could have one
    // more call acknowledged, by an fsync completed before the hold; a store that acknowledged
    // without waiting for its fsync would have gone on for the half second the child waits.
    const heldAt = Number(await readFile(hold, 'utf8'));
    expect(lines.length - heldAt, 'calls acknowledged without a completed fsync').to.be.at.most(10);

    const jobs = await allJobs(store);
    const byId = new Map(jobs.map((j) => [j.id, j]));
    for (const id of enqueued) expect(byId.has(id), `acknowledged job ${id} is lost`).to.equal(true);
    for (const id of done) expect(byId.get(id)?.status, `acknowledged outcome of ${id} is lost`).to.equal('done');
    // One file per job, each in one state and readable: no job both claimed and ready, none torn.
    expect(byId.size).to.equal(jobs.length);
    expect(await jobFiles(dir)).to.have.length(jobs.length);
    expect(await store.listCorrupt()).to.deep.equal([]);

    // The store goes on: the killed process's leases have expired for this clock, so every job not
    // done yet is claimed and completed, once.
    for (;;) {
      const claimed = await store.claimJobs({ queues: ['gc'], limit: 100, owner: 'survivor', leaseMs: 60_000 });
      if (claimed.length === 0) break;
      const checks = await store.recordOutcomes(
        claimed.map((j) => ({ kind: 'done' as const, lease: { jobId: j.id, token: j.lease.token } })),
      );
      expect(checks.every((c) => c === 'ok')).to.equal(true);
    }
    const after = await allJobs(store);
    expect(after.map((j) => j.id).sort()).to.deep.equal([...byId.keys()].sort());
    expect(after.every((j) => j.status === 'done')).to.equal(true);
    for (const id of done) expect(after.find((j) => j.id === id)?.attempts, `${id} ran again`).to.equal(1);
  });
});
