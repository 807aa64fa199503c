import 'reflect-metadata';
import { expect } from 'chai';
import { JobRegistry, MemoryJobStore, Retry, type JobContext } from '@oddjob/core';
import { JobExecutorShell } from '../src/index.js';
import { CapturingLogger, gate, waitFor } from './helpers.js';

describe('JobContext', () => {
  let shell: JobExecutorShell | undefined;
  afterEach(async () => {
    await shell?.shutdown({ timeoutMs: 1000 });
    shell = undefined;
  });

  it('reaches a declared trailing ctx parameter with attempt, metadata and stored progress', async () => {
    const registry = new JobRegistry();
    const reported = gate();
    const release = gate();
    const got: { to: string; subject: string | undefined; ctx: JobContext; stillHeld: boolean }[] = [];
    class Mail {
      async send(to: string, subject?: string, ctx?: JobContext) {
        const stillHeld = await ctx!.reportProgress({ done: 1, of: 2 });
        got.push({ to, subject, ctx: ctx!, stillHeld });
        reported.open();
        await release.promise;
      }
      /** Synchronous methods work too. */
      count(n: number, ctx?: JobContext) {
        got.push({ to: String(n), subject: undefined, ctx: ctx!, stillHeld: true });
      }
    }
    registry.register('mail', Mail);
    const store = new MemoryJobStore();
    const adder = store.adder({ registry });
    const id = await adder.addJob(Mail, (j) => j.send('a@b.c'), { metadata: { tenant: 't1' }, retry: Retry.fixed(4, 0) });
    shell = new JobExecutorShell({ manager: store, registry, logger: new CapturingLogger() });
    shell.startJobQueue('default', { workers: 1, pulseMs: 10 });
    await reported.promise;
    expect((await store.getJob(id))!.progress).to.deep.equal({ done: 1, of: 2 });
    const first = got[0]!;
    expect(first.to).to.equal('a@b.c');
    expect(first.subject).to.equal(undefined);
    expect(first.stillHeld).to.equal(true);
    expect(first.ctx.jobId).to.equal(id);
    expect(first.ctx.queue).to.equal('default');
    expect(first.ctx.attempt).to.equal(1);
    expect(first.ctx.maxAttempts).to.equal(4);
    expect(first.ctx.metadata).to.deep.equal({ tenant: 't1' });
    expect(first.ctx.signal.aborted).to.equal(false);
    release.open();
    const syncId = await adder.addJob(Mail, (j) => j.count(7));
    await waitFor(async () => (await store.getJob(syncId))!.status === 'done', 'sync job done');
    expect(got[1]!.to).to.equal('7');
    expect(got[1]!.ctx.jobId).to.equal(syncId);
  });
});
