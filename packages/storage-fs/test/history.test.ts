import { execFileSync } from 'node:child_process';
import { constants } from 'node:fs';
import { appendFile, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Retry, type ClaimedJob } from '@oddjob/core';
import { TestClock } from '@oddjob/core/testing';
import { expect } from 'chai';
import { FileJobQueueAdder, FileJobStore, type StoreProblem } from '../src/index.js';
import { injectFaults, leaseOf, removeDir, tempDir } from './helpers.js';

const HOUR = 3_600_000;
const err = (message: string) => ({ name: 'Error', message });

describe('fs store: runs, logs and executors on disk', function () {
  let dir: string;
  let clock: TestClock;
  let store: FileJobStore;
  let problems: StoreProblem[];

  beforeEach(async function () {
    dir = await tempDir();
    clock = new TestClock();
    problems = [];
    store = await FileJobStore.open({ dir, create: true, clock, retention: false, onProblem: (p) => problems.push(p) });
  });
  afterEach(async function () {
    await store.close();
    await removeDir(dir);
  });

  async function addAndClaim(retry = Retry.fixed(5, 0)): Promise<ClaimedJob> {
    await new FileJobQueueAdder(store).addJob({ target: 't', method: 'run', args: [1] }, { retry });
    const [job] = await store.claimJobs({
      queues: ['default'],
      limit: 1,
      owner: 'exec-1',
      leaseMs: 60_000,
      host: 'box-a',
    });
    return job;
  }

  const line = (message: string) => ({ at: clock.now(), level: 'info' as const, message });

  it('claim and done (no result) open no file for writing: the run lives in the job file name', async function () {
    await addAndClaim(); // the host's file is written once, at its first claim
    const adder = new FileJobQueueAdder(store);
    const ids = [
      await adder.addJob({ target: 't', method: 'run', args: [1] }),
      await adder.addJob({ target: 't', method: 'run', args: [2] }),
    ];
    const writes: string[] = [];
    const writing = (flags: string | number) =>
      typeof flags === 'string' ? flags !== 'r' : (flags & (constants.O_WRONLY | constants.O_RDWR)) !== 0;
    const restore = injectFaults({
      open: (path, flags) => {
        if (writing(flags)) writes.push(path);
        return null;
      },
    });
    try {
      const claimed = await store.claimJobs({
        queues: ['default'],
        limit: 2,
        owner: 'exec-1',
        leaseMs: 60_000,
        host: 'box-a',
      });
      expect(claimed.map((j) => j.id).sort()).to.deep.equal(ids.sort());
      expect(
        await store.recordOutcomes(claimed.map((j) => ({ kind: 'done' as const, lease: leaseOf(j) }))),
      ).to.deep.equal(['ok', 'ok']);
    } finally {
      restore();
    }
    expect(writes).to.deep.equal([]);
    const runs = await store.listRuns(ids[0]);
    expect(runs.map((r) => [r.state, r.executorId, r.host])).to.deep.equal([['done', 'exec-1', 'box-a']]);
    expect(await readdir(join(dir, 'runs'))).to.deep.equal([]);
  });

  it('a log whose last line was torn by a crash still reads, and lines appended after it read too', async function () {
    const job = await addAndClaim();
    expect(await store.appendLogs([{ lease: leaseOf(job), lines: [line('one'), line('two')] }])).to.deep.equal(['ok']);
    // What a crash in the middle of an append leaves: the start of a line, no end.
    await appendFile(join(dir, 'logs', `${job.id}.jsonl`), '\n{"a":1,"t":17,"l":"in');
    expect((await store.listLogs(job.id)).map((l) => l.message)).to.deep.equal(['one', 'two']);
    expect(problems.map((p) => p.kind)).to.include('unreadable');
    expect(problems.find((p) => p.kind === 'unreadable')!.message).to.include('skipped');

    // The next append starts on a line of its own, so nothing after the torn line is lost.
    expect(await store.appendLogs([{ lease: leaseOf(job), lines: [line('three')] }])).to.deep.equal(['ok']);
    const all = await store.listLogs(job.id);
    expect(all.map((l) => l.message)).to.deep.equal(['one', 'two', 'three']);
    expect(all[0].seq).to.be.lessThan(all[1].seq);
    expect(all[1].seq).to.be.lessThan(all[2].seq);
    expect((await store.listLogs(job.id, { afterSeq: all[1].seq })).map((l) => l.message)).to.deep.equal(['three']);
    expect(await store.listLogs(job.id, { afterSeq: all[2].seq })).to.deep.equal([]);
  });

  it('a bad line in a run history is skipped; the other runs and the derived one still list', async function () {
    const job = await addAndClaim();
    await store.recordOutcomes([{ kind: 'retry', lease: leaseOf(job), error: err('first'), runAt: clock.now() }]);
    await appendFile(join(dir, 'runs', `${job.id}.jsonl`), '\n{"k":"x","a":"not a number"}\nnot json at all');
    const [second] = await store.claimJobs({ queues: ['default'], limit: 1, owner: 'exec-2', leaseMs: 60_000 });
    const runs = await store.listRuns(second.id);
    expect(runs.map((r) => [r.attempt, r.state, r.executorId, r.host])).to.deep.equal([
      [1, 'retry', 'exec-1', 'box-a'],
      [2, 'running', 'exec-2', null],
    ]);
    expect(problems.some((p) => p.kind === 'unreadable' && p.message.includes('2 line(s)'))).to.equal(true);
  });

  it('a directory or FIFO in place of a run history is moved to corrupt/; reads, claims and outcomes go on', async function () {
    const a = await addAndClaim();
    const b = await addAndClaim();
    await mkdir(join(dir, 'runs', `${a.id}.jsonl`));
    execFileSync('mkfifo', [join(dir, 'runs', `${b.id}.jsonl`)]);
    // Reading never blocks on the FIFO, nor fails on the directory.
    expect((await store.getJob(b.id, { runs: true }))!.runs!.map((r) => r.state)).to.deep.equal(['running']);
    // Writing a record starts a fresh history instead of failing the outcome forever.
    expect(
      await store.recordOutcomes([{ kind: 'retry', lease: leaseOf(a), error: err('x'), runAt: clock.now() }]),
    ).to.deep.equal(['ok']);
    expect((await store.listRuns(a.id)).map((r) => r.state)).to.deep.equal(['retry']);
    expect(await store.claimJobs({ queues: ['default'], limit: 5, owner: 'exec-1', leaseMs: 60_000 })).to.have.length(
      1,
    );
    const corrupt = await store.listCorrupt();
    expect(corrupt.map((c) => c.reason).join('\n'))
      .to.include(`runs/${a.id}.jsonl`)
      .and.to.include(`runs/${b.id}.jsonl`);
  });

  it('an executor entry that is not one is moved aside, and the others still list', async function () {
    const info = {
      id: 'exec-1',
      host: 'box-a',
      pid: 1,
      version: '1.0.0',
      queues: [{ name: 'default', workers: 2 }],
      startedAt: clock.now(),
      state: 'running' as const,
    };
    await store.heartbeatExecutor(info);
    await writeFile(join(dir, 'executors', 'garbage.json'), '{"id":');
    await mkdir(join(dir, 'executors', 'a-directory.json'));
    expect((await store.listExecutors()).map((e) => e.id)).to.deep.equal(['exec-1']);
    expect(await readdir(join(dir, 'executors'))).to.deep.equal(['exec-1.json']);
    expect((await store.listCorrupt()).length).to.equal(2);
    // An id that does not fit a file name is stored under its hash, and found again.
    const long = 'é'.repeat(200);
    await store.heartbeatExecutor({ ...info, id: long });
    expect((await store.listExecutors()).map((e) => e.id)).to.deep.equal(['exec-1', long]);
    expect(await store.removeExecutor(long)).to.equal(true);
  });

  it('a missing host file reads as host null, reported; the job and its runs still read', async function () {
    const job = await addAndClaim();
    await rm(join(dir, 'hosts'), { recursive: true });
    await mkdir(join(dir, 'hosts'));
    const fresh = await FileJobStore.open({ dir, clock, onProblem: (p) => problems.push(p) });
    try {
      const read = await fresh.getJob(job.id, { runs: true });
      expect(read).to.include({ executorId: 'exec-1', host: null });
      expect(read!.runs![0]).to.include({ executorId: 'exec-1', host: null });
      expect(problems.some((p) => p.message.includes('host file'))).to.equal(true);
    } finally {
      await fresh.close();
    }
  });

  it('history, results and progress messages survive a reopen', async function () {
    const job = await addAndClaim();
    await store.reportProgress(leaseOf(job), 50, 'half');
    await store.appendLogs([{ lease: leaseOf(job), lines: [line('working')] }]);
    await store.recordOutcomes([{ kind: 'retry', lease: leaseOf(job), error: err('once'), runAt: clock.now() }]);
    const [second] = await store.claimJobs({
      queues: ['default'],
      limit: 1,
      owner: 'exec-2',
      leaseMs: 60_000,
      host: 'box-b',
    });
    // A new attempt starts without the last one's progress.
    expect(second).to.include({ progress: null, progressMessage: null, executorId: 'exec-2', host: 'box-b' });
    await store.recordOutcomes([
      { kind: 'done', lease: leaseOf(second), result: '{"json":42}', logs: [line('finished')] },
    ]);
    const before = await store.getJob(job.id, { runs: true });
    await store.close();
    store = await FileJobStore.open({ dir, clock, retention: false });
    const after = await store.getJob(job.id, { runs: true });
    expect(after).to.deep.equal(before);
    expect(after).to.include({ result: '{"json":42}', host: 'box-b' });
    expect(after!.runs!.map((r) => [r.state, r.progress, r.progressMessage])).to.deep.equal([
      ['retry', 50, 'half'],
      ['done', null, null],
    ]);
    expect((await store.listLogs(job.id)).map((l) => [l.attempt, l.message])).to.deep.equal([
      [1, 'working'],
      [2, 'finished'],
    ]);
  });
});

describe('fs store: retention removes history with the job', function () {
  it('a swept job takes its runs and logs with it; a kept one keeps them', async function () {
    const dir = await tempDir();
    const clock = new TestClock();
    const store = await FileJobStore.open({
      dir,
      create: true,
      clock,
      retention: { failedMs: HOUR, intervalMs: 1000 * HOUR },
    }); // only sweep() removes jobs here
    try {
      const adder = new FileJobQueueAdder(store);
      const ids = [await adder.addJob({ target: 't', method: 'run', args: [1] }, { retry: Retry.fixed(2, 0) })];
      const claimOne = async () =>
        (await store.claimJobs({ queues: ['default'], limit: 1, owner: 'w', leaseMs: 60_000 }))[0];
      const first = await claimOne();
      await store.recordOutcomes([
        {
          kind: 'retry',
          lease: leaseOf(first),
          error: err('a'),
          runAt: clock.now(),
          logs: [{ at: clock.now(), level: 'warn', message: 'x' }],
        },
      ]);
      await store.recordOutcomes([{ kind: 'failed', lease: leaseOf(await claimOne()), error: err('b') }]);
      clock.advance(2 * HOUR);
      ids.push(await adder.addJob({ target: 't', method: 'run', args: [2] }));
      const kept = await claimOne();
      await store.recordOutcomes([
        {
          kind: 'failed',
          lease: leaseOf(kept),
          error: err('c'),
          logs: [{ at: clock.now(), level: 'info', message: 'y' }],
        },
      ]);
      expect((await readdir(join(dir, 'runs'))).sort()).to.deep.equal(ids.map((i) => `${i}.jsonl`).sort());
      expect(await store.sweep()).to.equal(1);
      expect(await readdir(join(dir, 'runs'))).to.deep.equal([`${ids[1]}.jsonl`]);
      expect(await readdir(join(dir, 'logs'))).to.deep.equal([`${ids[1]}.jsonl`]);
      expect(await store.listRuns(ids[0])).to.deep.equal([]);
      expect(await store.listLogs(ids[0])).to.deep.equal([]);
    } finally {
      await store.close();
      await removeDir(dir);
    }
  });
});
