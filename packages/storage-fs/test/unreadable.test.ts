import { execFileSync } from 'node:child_process';
import { mkdir, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { StorageError, StorageOperationError, type ClaimedJob } from '@oddjob/core';
import { FileJobQueueAdder, type FileJobStore, type StoreProblem } from '../src/index.js';
import { discardStore, errnoError, filesIn, freshStore, injectFaults, jobFiles, leaseOf } from './helpers.js';

/**
 * Entries the store cannot read: real ones where root can make them (a directory, a FIFO, a dangling
 * symbolic link in a job file's place), and EACCES through the store's fs seam, because tests run as
 * root and root reads a file whatever its mode says.
 */
describe('fs store: unreadable entries', function () {
  let dir: string;
  let store: FileJobStore;
  let problems: StoreProblem[];

  beforeEach(async function () {
    problems = [];
    ({ store, dir } = await freshStore({ onProblem: (p) => problems.push(p) }));
  });
  afterEach(() => discardStore({ store, dir }));

  const add = (queue: string, n: number) =>
    new FileJobQueueAdder(store).addJobs(
      Array.from({ length: n }, (_, i) => ({ call: { target: 't', method: 'run', args: [i] }, options: { queue } })),
    );
  const claim = (queues: string[], limit = 10) => store.claimJobs({ queues, limit, owner: 'w', leaseMs: 60_000 });
  const fileOf = async (id: string) =>
    join(
      dir,
      'queues',
      (await jobFiles(dir)).find((f) => f.includes(id))!,
    );

  /** Claims and completes everything claimable in `queues`, as an executor would; returns the ids run. */
  async function runAll(queues: string[]): Promise<string[]> {
    const ran: string[] = [];
    for (let round = 0; round < 50; round++) {
      const jobs: ClaimedJob[] = await claim(queues, 3);
      if (jobs.length === 0) break;
      expect(await store.recordOutcomes(jobs.map((j) => ({ kind: 'done' as const, lease: leaseOf(j) })))).to.deep.equal(
        jobs.map(() => 'ok'),
      );
      ran.push(...jobs.map((j) => j.id));
    }
    return ran;
  }

  it('a directory, a FIFO, a dangling symlink and an unreadable file in one queue: quarantined; that queue and a healthy second queue run all their other jobs', async function () {
    const bad = await add('bad', 8);
    const good = await add('good', 20);
    const [asDir, asFifo, asLink, asDenied] = bad;
    for (const id of [asDir, asFifo, asLink]) {
      const path = await fileOf(id);
      await rm(path);
      if (id === asDir) await mkdir(path);
      else if (id === asFifo) execFileSync('mkfifo', [path]);
      else await symlink(join(dir, 'nowhere'), path);
    }
    const denied = injectFaults({
      open: (path) =>
        path.includes(asDenied) && path.includes('/queues/') ? errnoError('EACCES', 'open', path) : null,
    });
    let ranBad: string[];
    let ranGood: string[];
    try {
      // One claim over both queues (as one executor serving both), then each queue on its own.
      const both = await claim(['bad', 'good'], 30);
      expect(both.map((j) => j.id).sort()).to.deep.equal([...bad.slice(4), ...good].sort());
      await store.recordOutcomes(both.map((j) => ({ kind: 'released' as const, lease: leaseOf(j) })));
      ranGood = await runAll(['good']);
      ranBad = await runAll(['bad']);
      // The admin queries answer for the rest of the store.
      expect((await store.listJobs({ limit: 1000 })).map((j) => j.id).sort()).to.deep.equal(
        [...bad.slice(4), ...good].sort(),
      );
      for (const id of bad.slice(0, 4)) expect(await store.getJob(id)).to.equal(null);
    } finally {
      denied();
    }
    expect(ranGood.sort()).to.deep.equal([...good].sort());
    expect(ranBad.sort()).to.deep.equal(bad.slice(4).sort());
    expect(await filesIn(dir, 'queues/bad/running')).to.deep.equal([]);
    expect(await filesIn(dir, 'queues/good/running')).to.deep.equal([]);

    const corrupt = await store.listCorrupt();
    expect(corrupt).to.have.length(4);
    const reasonOf = (id: string) => corrupt.find((c) => c.file.includes(id))!.reason;
    expect(reasonOf(asDir)).to.include('a directory');
    expect(reasonOf(asFifo)).to.include('a FIFO');
    expect(reasonOf(asLink)).to.include('symbolic link');
    expect(reasonOf(asDenied)).to.include('may not read it (EACCES)');
    expect(problems.filter((p) => p.kind === 'quarantined')).to.have.length(4);
  });

  it('a file that cannot be read just now (EIO) is given back, not stranded in running/, and runs once it can be read', async function () {
    const [a, b, c] = await add('default', 3);
    const restore = injectFaults({
      open: (path) => (path.includes(b) && path.includes('/running/') ? errnoError('EIO', 'open', path) : null),
    });
    try {
      expect((await claim(['default'])).map((j) => j.id)).to.deep.equal([a, c]);
      const back = (await jobFiles(dir)).filter((f) => f.includes(b));
      expect(back).to.have.length(1);
      expect(back[0]).to.match(/^default\/ready\/.*~n~0~/); // back as it was: attempt not counted
      expect(problems.map((p) => p.kind)).to.include('unreadable');
      expect(problems.find((p) => p.kind === 'unreadable')!.error).to.be.instanceOf(StorageError);
    } finally {
      restore();
    }
    const later = await claim(['default']);
    expect(later.map((j) => j.id)).to.deep.equal([b]);
    expect(later[0].attempts).to.equal(1);
    expect(await store.listCorrupt()).to.deep.equal([]);
  });

  it('a corrupt file whose reason cannot be written (disk full) is still moved aside, and the claim goes on', async function () {
    const [a, b, c] = await add('default', 3);
    await writeFile(await fileOf(b), '{"format":1,"id":"' + b);
    const restore = injectFaults({
      write: (path) => (path.endsWith('.reason') ? errnoError('ENOSPC', 'write', path) : null),
    });
    try {
      expect((await claim(['default'])).map((j) => j.id)).to.deep.equal([a, c]);
    } finally {
      restore();
    }
    expect((await jobFiles(dir)).filter((f) => f.includes(b))).to.deep.equal([]);
    const names = await readdir(join(dir, 'corrupt'));
    expect(names).to.have.length(1); // the file, and no half-written reason beside it
    const corrupt = await store.listCorrupt();
    expect(corrupt[0].reason).to.include('no reason recorded');
    const reported = problems.find((p) => p.kind === 'quarantined')!;
    expect(reported.message).to.include('not complete JSON').and.to.include('disk full (ENOSPC)');
  });

  it('a claim whose fsync fails gives back every job it took before it throws a storage error', async function () {
    const ids = await add('default', 5);
    const restore = injectFaults({
      open: (path, flags) => (path.endsWith('/running') && flags === 'r' ? errnoError('EIO', 'open', path) : null),
    });
    try {
      const err = await claim(['default']).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(StorageOperationError);
      expect((err as StorageOperationError).provider).to.equal('fs');
      expect((err as StorageOperationError).operation).to.equal('claim');
      expect((err as Error).message)
        .to.include(dir)
        .and.to.include('input/output error');
    } finally {
      restore();
    }
    expect(await filesIn(dir, 'queues/default/running')).to.deep.equal([]);
    const again = await claim(['default']);
    expect(again.map((j) => j.id)).to.deep.equal(ids);
    expect(again.every((j) => j.attempts === 1)).to.equal(true);
  });

  it('a state directory that cannot be listed skips that queue only, and is reported', async function () {
    await add('broken', 2);
    const good = await add('good', 3);
    const restore = injectFaults({
      readdir: (path) => (path.includes('/broken/') ? errnoError('EIO', 'scandir', path) : null),
    });
    try {
      expect((await claim(['broken', 'good'])).map((j) => j.id)).to.deep.equal(good);
      expect((await store.countJobs()).filter((c) => c.queue === 'good')).to.have.length(1);
    } finally {
      restore();
    }
    expect(problems.some((p) => p.kind === 'unreadable' && p.path!.includes('broken'))).to.equal(true);
    // Reported once a minute per entry, not once per call.
    const before = problems.length;
    const again = injectFaults({
      readdir: (path) => (path.includes('/broken/') ? errnoError('EIO', 'scandir', path) : null),
    });
    try {
      await claim(['broken']);
    } finally {
      again();
    }
    expect(problems.length).to.equal(before);
    expect(store.problems().length).to.equal(before);
  });
});
