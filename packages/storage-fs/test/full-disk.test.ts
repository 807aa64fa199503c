import { execFileSync } from 'node:child_process';
import { open, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { StorageOperationError, StorageUnavailableError, type ClaimedJob, type JobOutcome } from '@oddjob/core';
import { FileJobQueueAdder, FileJobStore, type StoreProblem } from '../src/index.js';
import {
  discardStore,
  errnoError,
  filesIn,
  freshStore,
  injectFaults,
  jobFiles,
  leaseOf,
  rejection,
  removeDir,
  tempDir,
} from './helpers.js';

const err = (message: string) => ({ name: 'Boom', message });

describe('fs store: a full disk (injected ENOSPC)', function () {
  let dir: string;
  let store: FileJobStore;

  beforeEach(async function () {
    ({ store, dir } = await freshStore({ onProblem: () => undefined }));
  });
  afterEach(() => discardStore({ store, dir }));

  const add = (n: number, queue = 'default') =>
    new FileJobQueueAdder(store).addJobs(
      Array.from({ length: n }, (_, i) => ({ call: { target: 't', method: 'run', args: [i] }, options: { queue } })),
    );
  const claim = (limit = 10) => store.claimJobs({ queues: ['default'], limit, owner: 'w', leaseMs: 60_000 });
  const tmpFull = () =>
    injectFaults({ write: (path) => (path.startsWith(join(dir, 'tmp')) ? errnoError('ENOSPC', 'write', path) : null) });

  it('an outcome batch: "done" stays done, retry and failed are undone to their own lease; the retried batch answers ok for all, once', async function () {
    await add(3);
    const [a, b, c] = await claim();
    const runAt = new Date(Date.now() + 60_000);
    const batch: JobOutcome[] = [
      { kind: 'done', lease: leaseOf(a) },
      { kind: 'retry', lease: leaseOf(b), error: err('b failed'), runAt },
      { kind: 'failed', lease: leaseOf(c), error: err('c failed') },
    ];
    const restore = tmpFull();
    let e: Error;
    try {
      e = await rejection(store.recordOutcomes(batch));
    } finally {
      restore();
    }
    // "Try again": what the executor does with a rejected batch.
    expect(e).to.be.instanceOf(StorageUnavailableError);
    expect((e as StorageUnavailableError).operation).to.equal('recordOutcomes');
    expect(e.message)
      .to.include(dir)
      .and.to.include('2 of 3 outcomes could not be written')
      .and.to.include('disk full (ENOSPC)');
    expect(e.cause).to.be.instanceOf(StorageOperationError);

    expect((await store.getJob(a.id))!.status).to.equal('done');
    for (const j of [b, c]) {
      const now = (await store.getJob(j.id))!;
      // Back under the holder's own name: same token, same expiry, no private name, no temp file.
      expect(now.status).to.equal('processing');
      expect(now.lease).to.deep.equal(j.lease);
      expect(now.lastError).to.equal(null);
    }
    expect(await filesIn(dir, 'queues/default/running')).to.have.length(2);
    expect(await filesIn(dir, 'tmp')).to.deep.equal([]);

    expect(await store.recordOutcomes(batch)).to.deep.equal(['ok', 'ok', 'ok']);
    const [ra, rb, rc] = await Promise.all([a, b, c].map((j) => store.getJob(j.id)));
    expect(ra!.status).to.equal('done');
    expect(rb!.status).to.equal('retry');
    expect(rb!.lastError!.message).to.equal('b failed');
    expect(rb!.runAt.getTime()).to.equal(runAt.getTime());
    expect(rc!.status).to.equal('failed');
    expect(rc!.lastError!.message).to.equal('c failed');
    // Answered once: the same outcomes once more are an ordinary stale write.
    expect(await store.recordOutcomes(batch)).to.deep.equal(['lease-lost', 'lease-lost', 'lease-lost']);
  });

  it('the last rename of a rewrite failing puts the job back under its lease too', async function () {
    await add(1);
    const [a] = await claim();
    const restore = injectFaults({
      rename: (from, to) =>
        from.includes('/running/') && to.includes('/ready/') ? errnoError('ENOSPC', 'rename', to) : null,
    });
    try {
      await rejection(store.recordOutcomes([{ kind: 'retry', lease: leaseOf(a), error: err('x'), runAt: new Date() }]));
    } finally {
      restore();
    }
    const now = (await store.getJob(a.id))!;
    expect(now.status).to.equal('processing');
    expect(now.lease).to.deep.equal(a.lease);
    expect(await store.extendLeases([leaseOf(a)], 60_000)).to.deep.equal(['ok']);
    expect(
      await store.recordOutcomes([{ kind: 'retry', lease: leaseOf(a), error: err('x'), runAt: new Date() }]),
    ).to.deep.equal(['ok']);
    expect((await store.getJob(a.id))!.status).to.equal('retry');
  });

  it('progress on a full disk fails as a storage error and leaves the lease as it was', async function () {
    await add(1);
    const [a] = await claim();
    const restore = tmpFull();
    let e: Error;
    try {
      e = await rejection(store.reportProgress(leaseOf(a), 50));
    } finally {
      restore();
    }
    expect(e).to.be.instanceOf(StorageOperationError);
    expect(e.message).to.include('disk full');
    expect((await store.getJob(a.id))!.lease).to.deep.equal(a.lease);
    expect(await store.reportProgress(leaseOf(a), 60)).to.equal('ok');
    expect(await store.recordOutcomes([{ kind: 'done', lease: leaseOf(a) }])).to.deep.equal(['ok']);
  });

  it('enqueue: a StorageOperationError naming the store and "disk full"; nothing is enqueued, no key is held', async function () {
    const adder = new FileJobQueueAdder(store);
    const jobs = [0, 1, 2].map((n) => ({
      call: { target: 't', method: 'run', args: [n] },
      options: { uniqueKey: n === 1 ? 'the-key' : undefined },
    }));
    const restore = tmpFull();
    let e: Error;
    try {
      e = await rejection(adder.addJobs(jobs));
    } finally {
      restore();
    }
    expect(e).to.be.instanceOf(StorageOperationError);
    expect((e as StorageOperationError).provider).to.equal('fs');
    expect((e as StorageOperationError).operation).to.equal('addJobs');
    expect(e.message).to.match(new RegExp(`^file store ${dir}: addJobs failed: disk full \\(ENOSPC\\)`));
    expect(e.message).to.include('none of the 3 job(s) was enqueued').and.to.include('free space');
    expect(await jobFiles(dir)).to.deep.equal([]);
    expect(await filesIn(dir, 'tmp')).to.deep.equal([]);
    // Space is back: the same jobs go in, the key is free.
    const ids = await adder.addJobs(jobs);
    expect(new Set(ids).size).to.equal(3);
    expect(await jobFiles(dir)).to.have.length(3);
  });

  it('enqueue failing part-way (a rename into ready/) takes back the jobs already in and frees their keys', async function () {
    const adder = new FileJobQueueAdder(store);
    const jobs = [0, 1, 2].map((n) => ({
      call: { target: 't', method: 'run', args: [n] },
      options: { uniqueKey: `k${n}` },
    }));
    let renames = 0;
    const restore = injectFaults({
      rename: (_from, to) => (to.includes('/ready/') && ++renames === 2 ? errnoError('ENOSPC', 'rename', to) : null),
    });
    let e: Error;
    try {
      e = await rejection(adder.addJobs(jobs));
    } finally {
      restore();
    }
    expect(e.message).to.include('none of the 3 job(s) was enqueued');
    expect(await jobFiles(dir)).to.deep.equal([]);
    expect(await filesIn(dir, 'unique')).to.deep.equal([]);
    expect(await filesIn(dir, 'tmp')).to.deep.equal([]);
    expect(await adder.addJobs(jobs)).to.have.length(3);
    expect(await jobFiles(dir)).to.have.length(3);
  });
});

/**
 * The same on a real full file system: a 1 MiB tmpfs (mounting needs root; without it the test says
 * why and skips), filled up with a filler file.
 */
describe('fs store: a real full disk (1 MiB tmpfs)', function () {
  let mountPoint: string | null = null;
  let store: FileJobStore | null = null;
  const problems: StoreProblem[] = [];

  before(async function () {
    const at = await tempDir('oddjob-fs-tmpfs-');
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', at], { stdio: 'pipe' });
      mountPoint = at;
    } catch (e) {
      await removeDir(at);
      console.log(
        `      skipped: cannot mount a tmpfs here (${String((e as { stderr?: Buffer }).stderr ?? e).trim()})`,
      );
      this.skip();
    }
  });
  after(async function () {
    await store?.close();
    if (mountPoint) {
      execFileSync('umount', [mountPoint]);
      await removeDir(mountPoint);
    }
  });

  async function fill(path: string): Promise<void> {
    const fh = await open(path, 'w');
    const chunk = Buffer.alloc(16 * 1024, 1);
    try {
      for (;;) await fh.write(chunk);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
    } finally {
      await fh.close();
    }
  }

  it('enqueue, claims, outcomes and corrupt files on a full disk; everything completes once space is back', async function () {
    const dir = join(mountPoint!, 'store');
    store = await FileJobStore.open({ dir, create: true, retention: false, onProblem: (p) => problems.push(p) });
    const adder = new FileJobQueueAdder(store);
    const ids = await adder.addJobs([0, 1, 2, 3].map((n) => ({ call: { target: 't', method: 'run', args: [n] } })));
    const claimed: ClaimedJob[] = await store.claimJobs({ queues: ['default'], limit: 2, owner: 'w', leaseMs: 60_000 });
    expect(claimed).to.have.length(2);
    // One of the unclaimed jobs gets torn content, as a crash mid-write would leave it.
    const torn = (await jobFiles(dir)).find((f) => f.includes(ids[3]))!;
    await writeFile(join(dir, 'queues', torn), '{"format":1');
    const filler = join(mountPoint!, 'filler');
    await fill(filler);

    const e = await rejection(adder.addJob({ target: 't', method: 'run', args: ['late'] }));
    expect(e).to.be.instanceOf(StorageOperationError);
    expect(e.message).to.include(dir).and.to.include('disk full (ENOSPC)');

    const batch: JobOutcome[] = [
      { kind: 'done', lease: leaseOf(claimed[0]) },
      { kind: 'failed', lease: leaseOf(claimed[1]), error: err('its own error') },
    ];
    expect(await rejection(store.recordOutcomes(batch))).to.be.instanceOf(StorageUnavailableError);
    expect((await store.getJob(claimed[1].id))!.lease).to.deep.equal(claimed[1].lease);

    // A claim on the full disk: renames need no space; the torn file is moved aside without a reason.
    const more = await store.claimJobs({ queues: ['default'], limit: 10, owner: 'w', leaseMs: 60_000 });
    expect(more.map((j) => j.id)).to.deep.equal([ids[2]]);
    expect(problems.some((p) => p.kind === 'quarantined' && p.message.includes('disk full'))).to.equal(true);

    await rm(filler);
    expect(await store.recordOutcomes(batch)).to.deep.equal(['ok', 'ok']);
    expect((await store.getJob(claimed[1].id))!.lastError!.message).to.equal('its own error');
    expect(await store.recordOutcomes([{ kind: 'done', lease: leaseOf(more[0]) }])).to.deep.equal(['ok']);
    await adder.addJob({ target: 't', method: 'run', args: ['late'] });
    expect(await filesIn(dir, 'queues/default/running')).to.deep.equal([]);
    expect(await filesIn(dir, 'tmp')).to.deep.equal([]);
    expect(await store.listCorrupt()).to.have.length(1);
  });
});
