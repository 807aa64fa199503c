import { createHash } from 'node:crypto';
import { link, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TestClock } from '@oddjob/core/testing';
import { expect } from 'chai';
import { FileJobStore } from '../src/index.js';
import { STORE_VERSION } from '../src/store-dir.js';
import { removeDir, tempDir } from './helpers.js';

const T0 = Date.UTC(2030, 0, 1, 12, 0, 0);
const id = (n: number) => `01890a5d-ac96-774b-bcce-b3020990${String(n).padStart(4, '0')}`;

/** A job file as layout 3 wrote it: content format 3, without any of the fields of jobs that wait. */
function layout3Content(n: number, uniqueKey: string | null = null): string {
  return (
    JSON.stringify({
      format: 3,
      id: id(n),
      queue: 'default',
      target: 't',
      method: 'run',
      args: JSON.stringify({ json: [n] }),
      retry: { maxAttempts: 3, backoff: { kind: 'fixed', delayMs: 1000 } },
      metadata: {},
      uniqueKey,
      createdAt: T0,
      insertedRunAt: T0,
      lastError: null,
      progress: null,
      progressMessage: null,
      progressAt: null,
      result: null,
      pinnedHost: null,
    }) + '\n'
  );
}

/**
 * Writes a store as layout 3 wrote it: marker 3, no waiting/ directories, none of the top
 * directories of layout 4 (parents, outcomes, keys, locks), layout 3 names.
 */
async function writeLayout3Store(dir: string): Promise<void> {
  for (const d of ['tmp', 'queues', 'unique', 'schedules', 'corrupt', 'runs', 'logs', 'hosts', 'executors'])
    await mkdir(join(dir, d), { recursive: true });
  await writeFile(join(dir, 'oddjob-store.json'), JSON.stringify({ format: 'oddjob-fs', version: 3 }) + '\n');
  const q = join(dir, 'queues', 'default');
  for (const s of ['ready', 'running', 'done', 'failed', 'cancelled']) await mkdir(join(q, s), { recursive: true });
  await writeFile(join(q, 'ready', `${T0}~${id(1)}~n~0~${T0}~~~`), layout3Content(1, 'welcome'));
  await link(
    join(q, 'ready', `${T0}~${id(1)}~n~0~${T0}~~~`),
    join(dir, 'unique', createHash('sha256').update('welcome', 'utf8').digest('hex')),
  );
  await writeFile(join(q, 'done', `${T0 + 5}~${id(2)}~1~${T0}~${T0 + 1}~exec~~`), layout3Content(2));
  // A schedule as layout 3 wrote it: no priority, no concurrency.
  await mkdir(join(dir, 'schedules', 'nightly'), { recursive: true });
  await writeFile(
    join(dir, 'schedules', 'nightly', '1'),
    JSON.stringify({
      name: 'nightly',
      cron: '0 3 * * *',
      timeZone: 'UTC',
      target: 't',
      method: 'run',
      args: '[]',
      queue: 'default',
      retry: { maxAttempts: 1, backoff: { kind: 'fixed', delayMs: 0 } },
      metadata: {},
      misfire: { kind: 'skip' },
      paused: false,
      nextFireAt: T0,
      lastFireAt: null,
      version: 1,
      createdAt: T0,
      updatedAt: T0,
    }) + '\n',
  );
}

describe('fs store: upgrading a layout 3 store', function () {
  let dir: string;
  let store: FileJobStore | undefined;
  beforeEach(async function () {
    dir = await tempDir();
    await writeLayout3Store(dir);
  });
  afterEach(async function () {
    await store?.close();
    store = undefined;
    await removeDir(dir);
  });

  it('only bumps the marker: old jobs read as priority 0, no parents, no key, scope stored', async function () {
    const names = await readdir(join(dir, 'queues', 'default', 'ready'));
    store = await FileJobStore.open({ dir, clock: new TestClock(new Date(T0 + 10)) });
    const marker = JSON.parse(await readFile(join(dir, 'oddjob-store.json'), 'utf8')) as { version: number };
    expect(marker.version).to.equal(STORE_VERSION).and.to.equal(4);
    expect(await readdir(join(dir, 'queues', 'default', 'ready'))).to.deep.equal(names);
    for (const n of [1, 2]) {
      const job = (await store.getJob(id(n)))!;
      expect({
        priority: job.priority,
        after: job.after,
        waitingFor: job.waitingFor,
        concurrency: job.concurrency,
        sequence: job.sequence,
        uniqueScope: job.uniqueScope,
      }).to.deep.equal({
        priority: 0,
        after: null,
        waitingFor: null,
        concurrency: null,
        sequence: null,
        uniqueScope: 'stored',
      });
    }
    const schedule = (await store.getSchedule('nightly'))!;
    expect([schedule.priority, schedule.concurrency]).to.deep.equal([0, null]);
    // The old unique key still holds, and an old done job is a parent like any other.
    expect(await store.adder().addJob({ target: 't', method: 'run', args: [9] }, { uniqueKey: 'welcome' })).to.equal(
      id(1),
    );
    const child = await store.adder().addJob({ target: 't', method: 'run', args: [3] }, { after: [id(2)] });
    expect((await store.getJob(child))!.status).to.equal('new');
    const claimed = await store.claimJobs({ queues: ['default'], limit: 10, owner: 'o', leaseMs: 1000 });
    expect(claimed.map((j) => j.id)).to.deep.equal([id(1), child]);
    expect(await store.listCorrupt()).to.deep.equal([]);
  });

  it('makes the new directories; a crash before the marker is written is finished by the next open', async function () {
    await mkdir(join(dir, 'parents')); // an upgrade that died after its first mkdir
    store = await FileJobStore.open({ dir });
    for (const d of ['parents', 'outcomes', 'keys', 'locks']) expect(await readdir(join(dir, d))).to.deep.equal([]);
    expect(await readdir(join(dir, 'queues', 'default', 'waiting'))).to.deep.equal([]);
    // A requeued keyed job may have to wait: the queue made by layout 3 takes it.
    const a = await store.adder().addJob({ target: 't', method: 'run', args: [1] }, { concurrencyKey: 'k' });
    expect((await store.getJob(a))!.status).to.equal('new');
    expect(await store.cancelJob(a)).to.equal(true);
    const b = await store.adder().addJob({ target: 't', method: 'run', args: [2] }, { concurrencyKey: 'k' });
    expect(await store.requeueJob(a)).to.equal(true);
    expect([(await store.getJob(a))!.status, (await store.getJob(b))!.status]).to.deep.equal(['waiting', 'new']);
  });
});
