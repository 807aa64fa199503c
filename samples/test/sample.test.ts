import 'reflect-metadata';
import { expect } from 'chai';
import { StorageOperationError } from '@oddjob/core';
import { SampleFailedError, runSample } from '../src/sample.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStore } from '../src/store.js';

describe('sample', () => {
  it('runs the email, retrying and failing jobs to their final states', async () => {
    // The store npm start uses (the file store), in a directory of the test's own.
    const dir = await mkdtemp(join(tmpdir(), 'oddjob-sample-'));
    const store = await createStore({ ODDJOB_FS_DIR: join(dir, 'store') });
    expect(store.describe).to.match(/^file store at /);
    const lines: string[] = [];
    try {
      const result = await runSample(store, {
        print: (l) => lines.push(l),
        logger: { debug() {}, info() {}, warn() {}, error() {} },
      });
      // 2 emails, the flaky job, and the 2 jobs that waited (the follow-up after the welcome, the
      // alert after the broken job's failure).
      expect([...result.succeeded].sort()).to.deep.equal([
        'sample.email',
        'sample.email',
        'sample.email',
        'sample.email',
        'sample.flaky',
      ]);
      expect(result.failed.map((f) => f.target).sort()).to.deep.equal(['sample.broken', 'sample.email']);
      expect(result.failed.find((f) => f.target === 'sample.email')!.error).to.match(/not an email address/);
      expect(result.failed.find((f) => f.target === 'sample.broken')!.error).to.equal('the disk is full');
      // flaky: two retries; broken: one retry (two attempts); the bad address: none (JobAbortError).
      expect(result.retries).to.equal(3);
      expect(result.emailsSent).to.equal(4);
      const counts = await store.admin.countJobs();
      const byStatus = Object.fromEntries(counts.map((c) => [c.status, c.count]));
      expect(result.heartbeats).to.be.at.least(2);
      // 5 done + the heartbeats that ran; the 2 failures. Heartbeats fired but not yet run may be waiting.
      expect(byStatus.failed).to.equal(2);
      expect(byStatus.done).to.be.at.least(5 + 2);
      expect(lines.some((l) => l.includes('♥ heartbeat'))).to.equal(true);
      expect(lines.at(-1)).to.match(/^done: 5 succeeded, 2 failed, 3 retries, 4 emails sent, \d+ heartbeats$/);
      expect(await store.schedules.listSchedules(), 'the sample removes its schedule').to.deep.equal([]);
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('ends with an error naming the operation when a claim fails permanently, instead of backing off forever', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'oddjob-sample-'));
    const store = await createStore({ ODDJOB_FS_DIR: join(dir, 'store') });
    const broken = {
      ...store,
      manager: {
        ...store.manager,
        claimJobs: () => Promise.reject(new StorageOperationError('fs', 'claim', 'permission denied on running/')),
      },
    };
    broken.manager.recordOutcomes = store.manager.recordOutcomes.bind(store.manager);
    broken.manager.extendLeases = store.manager.extendLeases.bind(store.manager);
    broken.manager.reportProgress = store.manager.reportProgress.bind(store.manager);
    try {
      let caught: unknown;
      await runSample(broken, {
        print: () => undefined,
        logger: { debug() {}, info() {}, warn() {}, error() {} },
      }).catch((e: unknown) => (caught = e));
      expect(caught).to.be.instanceOf(SampleFailedError);
      expect((caught as Error).message).to.equal(
        'queue "default" stopped: storage operation "claim" failed permanently: permission denied on running/',
      );
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
