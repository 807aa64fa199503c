import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { OddJobError, StorageOperationError, StorageUnavailableError } from '@oddjob/core';
import { FileJobQueueAdder, FileJobStore, type StoreProblem } from '../src/index.js';
import { discardStore, errnoError, freshStore, injectFaults, rejection, removeDir, tempDir } from './helpers.js';

describe('fs store: errors are storage errors', function () {
  let dir: string;
  let store: FileJobStore;

  beforeEach(async function () {
    ({ store, dir } = await freshStore({ onProblem: () => undefined }));
  });
  afterEach(() => discardStore({ store, dir }));

  const claim = () => store.claimJobs({ queues: ['default'], limit: 10, owner: 'w', leaseMs: 60_000 });

  it('a failing file system call comes out in the family: EIO permanent, EMFILE transient, the errno kept as cause', async function () {
    for (const [code, cls] of [
      ['EIO', StorageOperationError],
      ['EMFILE', StorageUnavailableError],
    ] as const) {
      const restore = injectFaults({
        readdir: (path) => (path === join(dir, 'queues') ? errnoError(code, 'scandir', path) : null),
      });
      let e: Error;
      try {
        e = await rejection(claim());
      } finally {
        restore();
      }
      expect(e).to.be.instanceOf(cls);
      expect((e as StorageOperationError).provider).to.equal('fs');
      expect((e as StorageOperationError).operation).to.equal('claim');
      expect(e.message).to.include(`file store ${dir}: claim failed`).and.to.include(code);
      expect((e.cause as NodeJS.ErrnoException).code).to.equal(code);
    }
  });

  it('a closed store, a torn schedule file: storage errors, not plain Errors', async function () {
    await mkdir(join(dir, 'schedules', 'nightly'));
    await writeFile(join(dir, 'schedules', 'nightly', '1'), '{"name":');
    const torn = await rejection(store.getSchedule('nightly'));
    expect(torn).to.be.instanceOf(StorageOperationError);
    expect(torn.message).to.include('not valid JSON');
    await store.close();
    for (const e of [await rejection(claim()), await rejection(store.open())]) {
      expect(e).to.be.instanceOf(StorageOperationError);
      expect(e.message).to.include('is closed');
    }
  });

  it('bad input stays an InvalidOptionError (an OddJobError passes unchanged)', async function () {
    const e = await rejection(store.claimJobs({ queues: ['default'], limit: 0, owner: 'w', leaseMs: 1 }));
    expect(e.name).to.equal('InvalidOptionError');
    expect(e).to.be.instanceOf(OddJobError);
  });
});

describe('fs store: a failing background sweep', function () {
  it('is reported to onProblem and kept in problems(); claims go on; there is no mutable lastSweepError', async function () {
    const dir = await tempDir();
    const problems: StoreProblem[] = [];
    const store = await FileJobStore.open({
      dir,
      create: true,
      retention: { intervalMs: 1 },
      onProblem: (p) => problems.push(p),
    });
    try {
      await new FileJobQueueAdder(store).addJob({ target: 't', method: 'run', args: [] });
      const restore = injectFaults({
        readdir: (path) => (path === join(dir, 'tmp') ? errnoError('EIO', 'scandir', path) : null),
      });
      try {
        expect(await store.claimJobs({ queues: ['default'], limit: 1, owner: 'w', leaseMs: 60_000 })).to.have.length(1);
        for (let i = 0; i < 200 && problems.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      } finally {
        restore();
      }
      expect(problems.map((p) => p.kind)).to.deep.equal(['sweep-failed']);
      expect(problems[0].error).to.be.instanceOf(StorageOperationError);
      expect(problems[0].message).to.include('input/output error');
      const seen = store.problems();
      expect(seen).to.deep.equal(problems);
      expect(Object.isFrozen(seen) && Object.isFrozen(seen[0])).to.equal(true);
      expect('lastSweepError' in store).to.equal(false);
    } finally {
      await store.close();
      await removeDir(dir);
    }
  });
});
