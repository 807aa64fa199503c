import 'reflect-metadata';
import { expect } from 'chai';
import {
  JobRegistry,
  MemoryJobStore,
  NoJobContextError,
  Retry,
  currentJobContext,
  jobContext,
  type JobContext,
} from '@oddjob/core';
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
    const id = await adder.addJob(Mail, (j) => j.send('a@b.c'), {
      metadata: { tenant: 't1' },
      retry: Retry.fixed(4, 0),
    });
    shell = new JobExecutorShell({ manager: store, registry, logger: new CapturingLogger() });
    shell.startJobQueue('default', { workers: 1, pulseMs: 10 });
    await reported.promise;
    expect((await store.getJob(id))!.progress).to.deep.equal({ done: 1, of: 2 });
    const first = got[0];
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
    expect(got[1].to).to.equal('7');
    expect(got[1].ctx.jobId).to.equal(syncId);
  });

  it('jobContext() reaches the context from the method and from what it awaits, and never collides with parameters', async () => {
    const registry = new JobRegistry();
    const seen: Record<string, unknown[]> = {};
    const helper = async () => {
      await new Promise((r) => setTimeout(r, 1));
      return jobContext().jobId;
    };
    class Shapes {
      /** The trap: Function.length is 1 (it stops at the default), so the old form put ctx into width. */
      make(file: string, width = 100, ctx?: JobContext): void {
        seen.make = [file, width, ctx, jobContext().jobId];
      }
      /** A rest parameter: the context must not join the items. */
      log(...lines: unknown[]): void {
        seen.log = [lines, jobContext().jobId];
      }
      /** An optional parameter followed by ctx, the safe old form: ctx still arrives positionally. */
      send(to: string, subject?: string, ctx?: JobContext): void {
        seen.send = [to, subject, ctx?.jobId, jobContext().jobId];
      }
      /** Everything recorded, ctx slot reached by a default: nothing appended. */
      resize(file: string, ctx: unknown = 'mine'): void {
        seen.resize = [file, ctx];
      }
      async nested(): Promise<void> {
        seen.nested = [await helper(), jobContext().attempt];
      }
    }
    registry.register('shapes', Shapes);
    const store = new MemoryJobStore();
    const adder = store.adder({ registry });
    const make = await adder.addJob(Shapes, (j) => j.make('cat.png'));
    const log = await adder.addJob(Shapes, (j) => j.log('a', 'b'));
    const send = await adder.addJob(Shapes, (j) => j.send('a@b.c'));
    await adder.addJob(Shapes, (j) => j.resize('x.png'));
    const nested = await adder.addJob(Shapes, (j) => j.nested());
    shell = new JobExecutorShell({ store, registry, logger: new CapturingLogger() });
    shell.startJobQueue('default', { workers: 2, pulseMs: 10 });
    await waitFor(async () => (await store.listJobs({ status: 'done', limit: 10 })).length === 5, 'all five done');
    expect(seen.make).to.deep.equal(['cat.png', 100, undefined, make]);
    expect(seen.log).to.deep.equal([['a', 'b'], log]);
    expect(seen.send).to.deep.equal(['a@b.c', undefined, send, send]);
    expect(seen.resize).to.deep.equal(['x.png', 'mine']);
    expect(seen.nested).to.deep.equal([nested, 1]);
  });

  it('jobContext() outside a run throws a clear error; currentJobContext() answers undefined', () => {
    expect(() => jobContext()).to.throw(NoJobContextError, /outside a job run/);
    expect(currentJobContext()).to.equal(undefined);
  });
});
