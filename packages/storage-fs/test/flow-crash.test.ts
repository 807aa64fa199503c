import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DEPENDENCY_ERROR_NAME, type JobStatus } from '@oddjob/core';
import { expect } from 'chai';
import { FileJobStore } from '../src/index.js';
import { jobFiles, leaseOf, removeDir, tempDir } from './helpers.js';
import { startScript, type Child } from './processes.js';

const call = (n: number) => ({ target: 't', method: 'run', args: [n] });
const keyDir = (dir: string, key: string) => join(dir, 'keys', createHash('sha256').update(key, 'utf8').digest('hex'));
const members = (dir: string, key: string) => readdir(keyDir(dir, key)).catch(() => [] as string[]);

/**
 * A process is killed (SIGKILL) after its outcomes' final renames are durable, at one step of what
 * follows them: a parent's status recorded for its children, the edges removed, a child's release,
 * its records removed, a keyed job leaving its key, the next job's admission (the member moved, the
 * job not yet). The store opened afterwards must show every job as one file in one state, each
 * child released or decided exactly once, and each key held by exactly the jobs it should be.
 */
describe("fs store: killed between a parent's end and its children's release, or a key's next admission", function () {
  this.timeout(60_000);
  let dir: string;
  let child: Child | null = null;
  let jobs: Record<string, string>;

  beforeEach(async function () {
    dir = await tempDir();
    const store = await FileJobStore.open({ dir, create: true, retention: false });
    const add = store.adder();
    const parent = await add.addJob(call(1));
    const holder = await add.addJob(call(2), { concurrencyKey: 'k' });
    jobs = {
      parent,
      holder,
      next: await add.addJob(call(3), { concurrencyKey: 'k' }),
      last: await add.addJob(call(4), { concurrencyKey: 'k' }),
      child: await add.addJob(call(5), { after: [parent] }),
      onFailure: await add.addJob(call(6), { after: [{ job: parent, when: 'failed' }] }),
      keyedChild: await add.addJob(call(7), { after: [parent], concurrencyKey: 'k2' }),
    };
    expect(await store.getJob(jobs.next).then((j) => j!.status)).to.equal('waiting');
    await store.close();
  });
  afterEach(async function () {
    if (child && child.proc.exitCode === null) child.proc.kill('SIGKILL');
    child = null;
    await removeDir(dir);
  });

  async function killAt(fsCall: string, part: string): Promise<void> {
    const hold = join(dir, 'holding.txt');
    child = startScript('./flow-child.js', [dir, hold, fsCall, part]);
    while (!existsSync(hold)) {
      if (child.proc.exitCode !== null) throw new Error(`the child exited before its hold: ${child.stderr()}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    child.proc.kill('SIGKILL');
    expect(await child.exited).to.equal('SIGKILL');
  }

  async function statuses(store: FileJobStore): Promise<Record<string, JobStatus>> {
    const out: Record<string, JobStatus> = {};
    for (const [name, id] of Object.entries(jobs)) out[name] = (await store.getJob(id))!.status;
    return out;
  }

  async function expectRecovered(): Promise<void> {
    for (let open = 0; open < 2; open++) {
      // Opened twice: the second recovery pass must change nothing (every step is done once).
      const store = await FileJobStore.open({ dir, retention: false });
      try {
        expect(await statuses(store)).to.deep.equal({
          parent: 'done',
          holder: 'done',
          next: 'new',
          last: 'waiting',
          child: 'new',
          onFailure: 'cancelled',
          keyedChild: 'new',
        });
        expect((await store.getJob(jobs.onFailure))!.lastError).to.deep.equal({
          name: DEPENDENCY_ERROR_NAME,
          message: `parent ${jobs.parent} ended done, not failed`,
        });
        // One file per job, none torn; the keys held by exactly the admitted jobs.
        expect(await jobFiles(dir)).to.have.length(Object.keys(jobs).length);
        expect(await store.listCorrupt()).to.deep.equal([]);
        expect((await members(dir, 'k')).filter((m) => m.startsWith('h~'))).to.deep.equal([`h~${jobs.next}`]);
        expect((await members(dir, 'k')).filter((m) => m.startsWith('w~'))).to.have.length(1);
        expect(await members(dir, 'k2')).to.deep.equal([`h~${jobs.keyedChild}`]);
        expect(await readdir(join(dir, 'parents'))).to.deep.equal([]);
        expect(await readdir(join(dir, 'outcomes'))).to.deep.equal([]);
        expect(await readdir(join(dir, 'locks'))).to.deep.equal([]);
      } finally {
        await store.close();
      }
    }
    // And the store goes on: the released jobs run once each, then the last of the key.
    const store = await FileJobStore.open({ dir, retention: false });
    try {
      const claimed = await store.claimJobs({ queues: ['default'], limit: 100, owner: 'o', leaseMs: 60_000 });
      expect(claimed.map((j) => j.id).sort()).to.deep.equal([jobs.next, jobs.child, jobs.keyedChild].sort());
      await store.recordOutcomes(claimed.map((j) => ({ kind: 'done' as const, lease: leaseOf(j) })));
      const [last, ...more] = await store.claimJobs({ queues: ['default'], limit: 100, owner: 'o', leaseMs: 60_000 });
      expect([last?.id, more.length]).to.deep.equal([jobs.last, 0]);
    } finally {
      await store.close();
    }
  }

  const points: [string, string, string][] = [
    ["before the parent's status is recorded for its children", 'open', 'outcomes/'],
    ['after the records, before the edges are removed', 'unlink', 'parents/'],
    ["before the released child's rename", 'rename', '/waiting/{child}'],
    ["after a child's release, before its records are removed", 'unlink', 'outcomes/{child}'],
    ["before the cancelled child's rename", 'rename', '/waiting/{onFailure}'],
    ['before a keyed child is admitted (its key member written, its job not moved)', 'rename', '/waiting/{keyedChild}'],
    [
      "after a keyed child's slot member is written, before its parent-wait member is removed",
      'unlink',
      'p~{keyedChild}',
    ],
    ["before the keyed job's member leaves its key (the lock held)", 'unlink', '/keys/'],
    ["after the next job's member is admitted, before its job is (the lock held)", 'rename', '/waiting/{next}'],
  ];
  for (const [what, fsCall, part] of points) {
    it(`killed ${what}: recovered at the next open, each step done once`, async function () {
      const resolved = part.replace(/\{(\w+)\}/, (_, name: string) => jobs[name]);
      await killAt(fsCall, resolved);
      await expectRecovered();
    });
  }
});
