import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StoreSetupError, type JobRecord } from '@oddjob/core';
import { newJobFixture, TestClock } from '@oddjob/core/testing';
import { expect } from 'chai';
import { FileJobStore } from '../src/index.js';
import { errnoError, injectFaults, jobFiles, removeDir, tempDir } from './helpers.js';
import { writeLayout1Store, type Layout1Job } from './layout1.js';
import { STORE_VERSION } from '../src/store-dir.js';

const T0 = Date.UTC(2030, 0, 1, 12, 0, 0);
const id = (n: number) => `01890a5d-ac96-774b-bcce-b302099000${String(n).padStart(2, '0')}`;
const ERR = { name: 'TypeError', message: 'mail service down' };

/** One job in every state (two processing: a live lease and an expired one), as layout 1 wrote them. */
const JOBS: Layout1Job[] = [
  { id: id(1), queue: 'default', state: 'ready', name: `${T0}~${id(1)}~n~0~${T0}`, createdAt: T0 },
  {
    id: id(2),
    queue: 'default',
    state: 'ready',
    name: `${T0 + 5_000}~${id(2)}~r~1~${T0 + 4_000}`,
    lastError: ERR,
    progress: 30,
    createdAt: T0,
  },
  {
    id: id(3),
    queue: 'default',
    state: 'running',
    name: `${id(3)}~tokenAAAAAAAAAAAA~${T0 + 600_000}~1~${T0}~${T0 + 2_000}~old%20exec`,
    progress: { step: 2 },
    createdAt: T0,
  },
  {
    id: id(4),
    queue: 'default',
    state: 'running',
    name: `${id(4)}~tokenBBBBBBBBBBBB~${T0 + 1_000}~1~${T0}~${T0 + 500}~dead-exec`,
    createdAt: T0,
  },
  {
    id: id(5),
    queue: 'mail',
    state: 'done',
    name: `${T0 + 3_000}~${id(5)}~1~${T0}`,
    uniqueKey: 'welcome:ada',
    createdAt: T0,
  },
  { id: id(6), queue: 'mail', state: 'failed', name: `${T0 + 3_000}~${id(6)}~3~${T0}`, lastError: ERR, createdAt: T0 },
  { id: id(7), queue: 'mail', state: 'cancelled', name: `${T0 + 3_000}~${id(7)}~0~${T0}`, createdAt: T0 },
];

/** What each job must read back as: its layout 1 record, with every field history added null. */
const EXPECTED: Record<string, Partial<JobRecord> & { leaseOwner?: string }> = {
  [id(1)]: {
    status: 'new',
    attempts: 0,
    runAt: new Date(T0),
    updatedAt: new Date(T0),
    finishedAt: null,
    lastError: null,
    progress: null,
  },
  [id(2)]: {
    status: 'retry',
    attempts: 1,
    runAt: new Date(T0 + 5_000),
    updatedAt: new Date(T0 + 4_000),
    finishedAt: null,
    lastError: ERR,
    progress: 30,
  },
  [id(3)]: {
    status: 'processing',
    attempts: 1,
    runAt: new Date(T0),
    updatedAt: new Date(T0 + 2_000),
    finishedAt: null,
    progress: { step: 2 },
    leaseOwner: 'old exec',
  },
  [id(4)]: {
    status: 'processing',
    attempts: 1,
    runAt: new Date(T0),
    updatedAt: new Date(T0 + 500),
    finishedAt: null,
    progress: null,
    leaseOwner: 'dead-exec',
  },
  [id(5)]: {
    status: 'done',
    attempts: 1,
    runAt: new Date(T0),
    updatedAt: new Date(T0 + 3_000),
    finishedAt: new Date(T0 + 3_000),
    uniqueKey: 'welcome:ada',
  },
  [id(6)]: { status: 'failed', attempts: 3, finishedAt: new Date(T0 + 3_000), lastError: ERR },
  [id(7)]: { status: 'cancelled', attempts: 0, finishedAt: new Date(T0 + 3_000) },
};

async function expectAllIntact(store: FileJobStore): Promise<void> {
  for (const j of JOBS) {
    const job = await store.getJob(j.id, { runs: true });
    expect(job, j.id).to.not.equal(null);
    const { leaseOwner, ...fields } = EXPECTED[j.id];
    expect(job, j.id).to.deep.include({
      queue: j.queue,
      target: 'mailer',
      method: 'send',
      args: JSON.stringify({ json: [j.id] }),
      metadata: { origin: 'layout-1' },
    });
    expect(job, j.id).to.deep.include(fields);
    expect(job!.createdAt.getTime()).to.equal(T0);
    expect(job!.lease?.owner, j.id).to.equal(leaseOwner);
    // History did not exist in layout 1: every new field reads null, and no run is made up.
    expect(job, j.id).to.include({
      startedAt: null,
      executorId: null,
      host: null,
      result: null,
      progressMessage: null,
    });
    expect(job!.runs, j.id).to.deep.equal([]);
    expect(await store.listLogs(j.id)).to.deep.equal([]);
  }
}

async function markerVersion(dir: string): Promise<number> {
  return (JSON.parse(await readFile(join(dir, 'oddjob-store.json'), 'utf8')) as { version: number }).version;
}

describe('fs store: upgrading a layout 1 store', function () {
  let dir: string;
  let clock: TestClock;
  let store: FileJobStore | undefined;

  beforeEach(async function () {
    dir = await tempDir();
    clock = new TestClock(T0 + 10_000);
    await writeLayout1Store(dir, JOBS);
  });
  afterEach(async function () {
    await store?.close();
    store = undefined;
    await removeDir(dir);
  });

  it('upgrades on open: every job in every state reads back as it was, with the new fields null', async function () {
    store = await FileJobStore.open({ dir, clock });
    expect(await markerVersion(dir)).to.equal(STORE_VERSION);
    for (const d of ['runs', 'logs', 'hosts', 'executors']) expect(await readdir(join(dir, d))).to.deep.equal([]);
    await expectAllIntact(store);
    expect(await store.listCorrupt()).to.deep.equal([]);
    expect(store.problems()).to.deep.equal([]);
    // Reopening an upgraded store changes nothing.
    await store.close();
    store = await FileJobStore.open({ dir, clock });
    await expectAllIntact(store);
  });

  it('upgraded jobs are claimable and finishable, keep their leases and keys, and start their history there', async function () {
    store = await FileJobStore.open({ dir, clock });
    const claimed = await store.claimJobs({
      queues: ['default'],
      limit: 10,
      owner: 'new-exec',
      leaseMs: 60_000,
      host: 'box-b',
    });
    // new, retry (due) and the expired lease; not the live one.
    expect(claimed.map((j) => j.id).sort()).to.deep.equal([id(1), id(2), id(4)]);
    expect(claimed.find((j) => j.id === id(2))!.attempts).to.equal(2);
    // A lease taken over from layout 1 has no run to record (its start is unknown).
    expect((await store.listRuns(id(4))).map((r) => [r.attempt, r.state, r.executorId, r.host])).to.deep.equal([
      [2, 'running', 'new-exec', 'box-b'],
    ]);
    expect(
      await store.recordOutcomes(
        claimed.map((j) => ({ kind: 'done' as const, lease: { jobId: j.id, token: j.lease.token } })),
      ),
    ).to.deep.equal(['ok', 'ok', 'ok']);
    // The live layout 1 lease still holds: its holder can finish it.
    expect(
      await store.recordOutcomes([
        { kind: 'done', lease: { jobId: id(3), token: 'tokenAAAAAAAAAAAA' }, result: '{"json":"sent"}' },
      ]),
    ).to.deep.equal(['ok']);
    const finished = await store.getJob(id(3));
    expect(finished).to.include({ status: 'done', result: '{"json":"sent"}', startedAt: null });
    // Final jobs requeue and run again.
    for (const n of [5, 6, 7]) expect(await store.requeueJob(id(n)), id(n)).to.equal(true);
    const again = await store.claimJobs({ queues: ['mail'], limit: 10, owner: 'new-exec', leaseMs: 60_000 });
    expect(again.map((j) => j.id).sort()).to.deep.equal([id(5), id(6), id(7)]);
    // The unique key of the layout 1 job is still held by it.
    const [holder] = await store.insertJobs([
      newJobFixture(id(99), {
        queue: 'mail',
        target: 'mailer',
        method: 'send',
        retry: { maxAttempts: 1, backoff: { kind: 'fixed', delayMs: 0 } },
        uniqueKey: 'welcome:ada',
      }),
    ]);
    expect(holder).to.equal(id(5));
  });

  it('a crash part-way through the upgrade leaves a store the next open reads and finishes upgrading', async function () {
    let renames = 0;
    const restore = injectFaults({
      // Dies (as far as the upgrade can tell) after three job files were renamed.
      rename: (from) =>
        from.includes(`${join(dir, 'queues')}`) && ++renames > 3 ? errnoError('EIO', 'rename', from) : null,
    });
    try {
      let err: unknown = null;
      await FileJobStore.open({ dir, clock }).catch((e: unknown) => (err = e));
      expect(err).to.be.instanceOf(StoreSetupError);
      expect((err as Error).message).to.include('opening it again finishes the upgrade');
    } finally {
      restore();
    }
    // Half done: three job files renamed, four not, and still marked layout 1.
    const layout1Names = new Set(JOBS.map((j) => `${j.queue}/${j.state}/${j.name}`));
    const files = await jobFiles(dir);
    expect(files.filter((f) => layout1Names.has(f))).to.have.length(JOBS.length - 3);
    expect(await markerVersion(dir)).to.equal(1);
    store = await FileJobStore.open({ dir, clock });
    expect(await markerVersion(dir)).to.equal(STORE_VERSION);
    await expectAllIntact(store);
    expect(await store.listCorrupt()).to.deep.equal([]);
  });

  it('refuses a store of a layout newer than it knows, and changes nothing in it', async function () {
    await writeLayout1Store(dir, []);
    const marker = join(dir, 'oddjob-store.json');
    await writeFile(marker, JSON.stringify({ format: 'oddjob-fs', version: STORE_VERSION + 1 }) + '\n');
    let err: unknown = null;
    await FileJobStore.open({ dir, clock }).catch((e: unknown) => (err = e));
    expect(err).to.be.instanceOf(StoreSetupError);
    expect((err as Error).message)
      .to.include('newer version')
      .and.to.include(`layout ${STORE_VERSION + 1}`);
    expect(await readdir(join(dir, 'queues', 'default', 'ready'))).to.include(JOBS[0].name);
  });
});

describe('fs store: upgrading a layout 2 store', function () {
  let dir: string;
  afterEach(async function () {
    await removeDir(dir);
  });

  it('only bumps the marker: its jobs read back unpinned and are claimed as before', async function () {
    dir = await tempDir();
    const clock = new TestClock();
    const old = await FileJobStore.open({ dir, create: true, clock });
    const id = await old.adder().addJob({ target: 't', method: 'run', args: [1] });
    await old.close();
    // What layout 2 wrote: this job's name and content are byte for byte the same in layout 3.
    const marker = join(dir, 'oddjob-store.json');
    await writeFile(marker, JSON.stringify({ format: 'oddjob-fs', version: 2 }) + '\n');
    const names = await readdir(join(dir, 'queues', 'default', 'ready'));
    const store = await FileJobStore.open({ dir, clock });
    try {
      expect(await markerVersion(dir)).to.equal(STORE_VERSION);
      expect(await readdir(join(dir, 'queues', 'default', 'ready'))).to.deep.equal(names);
      expect((await store.getJob(id))!.pinnedHost).to.equal(null);
      const claimed = await store.claimJobs({ queues: ['default'], limit: 5, owner: 'o', leaseMs: 1_000, host: 'x' });
      expect(claimed.map((j) => j.id)).to.deep.equal([id]);
    } finally {
      await store.close();
    }
  });
});
