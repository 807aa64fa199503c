import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { TestClock } from '@oddjob/core/testing';
import { expect } from 'chai';
import { FileJobQueueAdder, FileJobStore } from '../src/index.js';
import { removeDir, tempDir } from './helpers.js';

const HOUR = 3_600_000;

describe('fs store: retention, wake-ups, reopening', function () {
  let dir: string;
  let clock: TestClock;
  let store: FileJobStore;

  beforeEach(async function () {
    dir = await tempDir();
    clock = new TestClock();
    store = await FileJobStore.open({
      dir,
      create: true,
      clock,
      retention: { doneMs: HOUR, failedMs: 10 * HOUR, cancelledMs: HOUR, intervalMs: 60_000 },
    });
  });
  afterEach(async function () {
    await store.close();
    await removeDir(dir);
  });

  async function finish(kind: 'done' | 'failed'): Promise<string> {
    const [job] = await store.claimJobs({ queues: ['default'], limit: 1, owner: 'w', leaseMs: 60_000 });
    const lease = { jobId: job.id, token: job.lease.token };
    const outcome = kind === 'done' ? { kind, lease } : { kind, lease, error: { name: 'Error', message: 'x' } };
    expect(await store.recordOutcomes([outcome])).to.deep.equal(['ok']);
    return job.id;
  }

  it('removes finished jobs once their retention has passed (by the store clock), per status, freeing keys', async function () {
    const adder = new FileJobQueueAdder(store);
    await adder.addJob({ target: 't', method: 'run', args: [1] }, { uniqueKey: 'k1' });
    await adder.addJob({ target: 't', method: 'run', args: [2] });
    const kept = await adder.addJob({ target: 't', method: 'run', args: [3] });
    const done = await finish('done');
    const failed = await finish('failed');
    clock.advance(2 * HOUR);
    expect(await store.sweep()).to.equal(1);
    expect(await store.getJob(done)).to.equal(null);
    expect((await store.getJob(failed))?.status).to.equal('failed');
    expect((await store.getJob(kept))?.status).to.equal('new');
    // The done job held k1: the key is free again.
    expect(await adder.addJob({ target: 't', method: 'run', args: [4] }, { uniqueKey: 'k1' })).to.not.equal(done);
    clock.advance(10 * HOUR);
    expect(await store.sweep()).to.equal(1);
    expect(await store.getJob(failed)).to.equal(null);
  });

  it('a claim triggers the retention sweep in the background', async function () {
    await new FileJobQueueAdder(store).addJob({ target: 't', method: 'run', args: [1] });
    const done = await finish('done');
    clock.advance(2 * HOUR);
    await store.claimJobs({ queues: ['default'], limit: 1, owner: 'w', leaseMs: 1000 });
    await store.close(); // waits for the background sweep
    store = await FileJobStore.open({ dir, clock, retention: false });
    expect(await store.getJob(done)).to.equal(null);
  });

  it('tells in-process listeners when jobs are added, released or requeued', async function () {
    const heard: string[] = [];
    const off = store.onJobsAvailable((q) => heard.push(q));
    const id = await new FileJobQueueAdder(store).addJob({ target: 't', method: 'run', args: [] }, { queue: 'mail' });
    const [job] = await store.claimJobs({ queues: ['mail'], limit: 1, owner: 'w', leaseMs: 1000 });
    const beforeRelease = heard.length;
    await store.recordOutcomes([{ kind: 'released', lease: { jobId: id, token: job.lease.token } }]);
    // The add and the release each tell in-process listeners at once; the directory watch (watch.ts)
    // may tell them again, so count at least, never exactly.
    expect(beforeRelease, 'heard the add').to.be.at.least(1);
    expect(heard.length, 'heard the release').to.be.greaterThan(beforeRelease);
    off();
    const atOff = heard.length;
    await new FileJobQueueAdder(store).addJob({ target: 't', method: 'run', args: [] }, { queue: 'mail' });
    await new Promise((r) => setTimeout(r, 200)); // room for a late watch event, which must not arrive
    expect(heard.length, 'nothing heard after unsubscribing').to.equal(atOff);
    expect(new Set(heard)).to.deep.equal(new Set(['mail']));
  });

  it('everything acknowledged is there after reopening: state, lease, progress, error; tmp/ is left empty', async function () {
    const adder = new FileJobQueueAdder(store);
    const a = await adder.addJob({ target: 't', method: 'run', args: [1] }, { queue: 'q:1', metadata: { who: 'me' } });
    const b = await adder.addJob({ target: 't', method: 'run', args: [2] }, { queue: 'q:1' });
    const [ja, jb] = await store.claimJobs({
      queues: ['q:1'],
      limit: 2,
      owner: 'owner with spaces/and~tilde',
      leaseMs: 60_000,
    });
    expect(await store.reportProgress({ jobId: a, token: ja.lease.token }, { done: 4, of: 9 })).to.equal('ok');
    const retryAt = new Date(clock.now().getTime() + 5000);
    await store.recordOutcomes([
      {
        kind: 'retry',
        lease: { jobId: b, token: jb.lease.token },
        error: { name: 'E', message: 'boom' },
        runAt: retryAt,
      },
    ]);
    await store.close();
    store = await FileJobStore.open({ dir, clock, retention: false });
    const ra = await store.getJob(a);
    expect(ra).to.include({ status: 'processing', queue: 'q:1', attempts: 1 });
    expect(ra!.lease).to.deep.equal({
      owner: 'owner with spaces/and~tilde',
      token: ja.lease.token,
      expiresAt: ja.lease.expiresAt,
    });
    expect(ra!.progress).to.deep.equal({ done: 4, of: 9 });
    expect(ra!.metadata).to.deep.equal({ who: 'me' });
    const rb = await store.getJob(b);
    expect(rb).to.include({ status: 'retry', attempts: 1 });
    expect(rb!.runAt).to.deep.equal(retryAt);
    expect(rb!.lastError).to.deep.equal({ name: 'E', message: 'boom' });
    // The progress rewrite kept the lease: the holder can still finish the job.
    expect(await store.recordOutcomes([{ kind: 'done', lease: { jobId: a, token: ja.lease.token } }])).to.deep.equal([
      'ok',
    ]);
    expect(await readdir(join(dir, 'tmp'))).to.deep.equal([]);
  });
});

describe('fs store: retention option', function () {
  let dir: string;
  let clock: TestClock;
  beforeEach(async function () {
    dir = await tempDir();
    clock = new TestClock();
  });
  afterEach(async function () {
    await removeDir(dir);
  });

  async function doneJob(store: FileJobStore): Promise<string> {
    const id = await new FileJobQueueAdder(store).addJob({ target: 't', method: 'run', args: [] });
    const [job] = await store.claimJobs({ queues: ['default'], limit: 1, owner: 'w', leaseMs: 60_000 });
    expect(await store.recordOutcomes([{ kind: 'done', lease: { jobId: id, token: job.lease.token } }])).to.deep.equal([
      'ok',
    ]);
    return id;
  }

  it('is off by default, as on the other stores: a finished job stays until purged', async function () {
    const store = await FileJobStore.open({ dir, create: true, clock });
    try {
      const id = await doneJob(store);
      clock.advance(365 * 24 * HOUR);
      await store.claimJobs({ queues: ['default'], limit: 1, owner: 'w', leaseMs: 1000 });
      expect(await store.sweep()).to.equal(0);
      expect((await store.getJob(id))?.status).to.equal('done');
    } finally {
      await store.close();
    }
  });

  it('keeps the old names working: false, Infinity and sweepIntervalMs', async function () {
    for (const retention of [false, { doneMs: Number.POSITIVE_INFINITY }] as const) {
      const store = await FileJobStore.open({ dir, create: true, clock, retention });
      try {
        const id = await doneJob(store);
        clock.advance(365 * 24 * HOUR);
        expect(await store.sweep()).to.equal(0);
        expect((await store.getJob(id))?.status).to.equal('done');
      } finally {
        await store.close();
      }
    }
    const store = await FileJobStore.open({ dir, clock, retention: { doneMs: HOUR, sweepIntervalMs: 1000 } });
    try {
      clock.advance(2 * HOUR);
      await store.claimJobs({ queues: ['default'], limit: 1, owner: 'w', leaseMs: 1000 });
      await store.close(); // waits for the background sweep
      const reopened = await FileJobStore.open({ dir, clock });
      expect(await reopened.listJobs({ status: 'done' })).to.deep.equal([]);
      await reopened.close();
    } finally {
      await store.close();
    }
  });

  it('refuses bad values naming the field, and both names of the interval at once', function () {
    expect(() => new FileJobStore({ dir, retention: { doneMs: -1 } })).to.throw(/retention\.doneMs/);
    expect(() => new FileJobStore({ dir, retention: { intervalMs: 10, sweepIntervalMs: 10 } })).to.throw(
      /sweepIntervalMs/,
    );
  });
});
