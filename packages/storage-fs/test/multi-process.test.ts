import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { FileJobQueueAdder, type FileJobStore } from '../src/index.js';
import { discardStore, freshStore, jobFiles, removeDir } from './helpers.js';
import { startChild, type Child } from './processes.js';

describe('fs store: several processes on one directory', function () {
  this.timeout(300_000);
  let dir: string;
  let store: FileJobStore;
  const children: Child[] = [];

  beforeEach(async function () {
    ({ store, dir } = await freshStore());
  });
  afterEach(async function () {
    for (const c of children.splice(0)) if (c.proc.exitCode === null) c.proc.kill('SIGKILL');
    await discardStore({ store, dir });
  });

  it('3 claimers and 2 racing producers: 5,000 jobs, each executed exactly once, unique keys kept across processes', async function () {
    // 2,500 plain jobs up front; 2,500 keyed jobs added while the claimers run, by two producers that
    // add the same keys in opposite orders (so they collide all the way through).
    const adder = new FileJobQueueAdder(store);
    const upfront: string[] = [];
    for (let i = 0; i < 2500; i += 250) {
      upfront.push(
        ...(await adder.addJobs(
          Array.from({ length: 250 }, (_, k) => ({
            call: { target: 't', method: 'run', args: [i + k] },
            options: { queue: 'mp' },
          })),
        )),
      );
    }
    const stop = join(dir, '..', `${dir.split('/').pop()}-stop`);
    const outs = [0, 1, 2].map((i) => join(dir, `executed-${i}.txt`));
    for (const [i, out] of outs.entries()) {
      await writeFile(out, '');
      // A lease of an hour: no lease can expire during the test, so any double execution is a bug.
      children.push(startChild(['claim', dir, out, `claimer-${i}`, '3600000', '20', stop]));
    }
    const producers = [
      startChild(['produce', dir, '2500', 'key-', '0']),
      startChild(['produce', dir, '2500', 'key-', '1']),
    ];
    children.push(...producers);
    for (const p of producers) expect(await p.exited, p.stderr()).to.equal(0);
    await writeFile(stop, '');
    for (const c of children) expect(await c.exited, c.stderr()).to.equal(0);
    await removeDir(stop);

    const executed = (await Promise.all(outs.map((o) => readFile(o, 'utf8')))).flatMap((t) =>
      t.split('\n').filter(Boolean),
    );
    const done = await store.listJobs({ status: 'done', limit: 10_000 });
    expect(done).to.have.length(5000);
    expect(new Set(executed).size, 'some job ran twice').to.equal(executed.length);
    expect(new Set(executed)).to.deep.equal(new Set(done.map((j) => j.id)));
    for (const id of upfront) expect(executed).to.include(id);
    const keys = done.map((j) => j.uniqueKey).filter((k) => k !== null);
    expect(new Set(keys).size).to.equal(2500);
    expect(done.every((j) => j.attempts === 1)).to.equal(true);
    // Every job is exactly one file, and every claimer did a share of the work.
    expect(await jobFiles(dir)).to.have.length(5000);
    for (const out of outs) expect((await readFile(out, 'utf8')).length).to.be.greaterThan(0);
  });

  it('a claimer killed with SIGKILL mid-batch: after its leases expire every job completes, none lost', async function () {
    const adder = new FileJobQueueAdder(store);
    const ids: string[] = [];
    for (let i = 0; i < 2000; i += 250) {
      ids.push(
        ...(await adder.addJobs(
          Array.from({ length: 250 }, (_, k) => ({
            call: { target: 't', method: 'run', args: [i + k] },
            options: { queue: 'mp' },
          })),
        )),
      );
    }
    const out = join(dir, 'executed-victim.txt');
    await writeFile(out, '');
    const victim = startChild(['claim', dir, out, 'victim', '60000', '25']);
    children.push(victim);
    // Kill it while it is busy: once it has executed a few hundred jobs, at whatever syscall it is in.
    for (;;) {
      const n = (await readFile(out, 'utf8')).split('\n').length - 1;
      if (n >= 300) break;
      if (victim.proc.exitCode !== null) throw new Error(`victim exited early: ${victim.stderr()}`);
      await new Promise((r) => setTimeout(r, 2));
    }
    victim.proc.kill('SIGKILL');
    expect(await victim.exited).to.equal('SIGKILL');

    // Two survivors whose clocks are past every lease the victim held take over at once: they race
    // for the same expired leases, and only one rename of each can win.
    const survivorOuts = [0, 1].map((i) => join(dir, `executed-survivor-${i}.txt`));
    const survivors = survivorOuts.map((out, i) =>
      startChild(['claim', dir, out, `survivor-${i}`, '60000', '10', '-', '3600000']),
    );
    children.push(...survivors);
    for (const s of survivors) expect(await s.exited, s.stderr()).to.equal(0);
    const survivorRan = (await Promise.all(survivorOuts.map((o) => readFile(o, 'utf8').catch(() => '')))).flatMap((t) =>
      t.split('\n').filter(Boolean),
    );
    expect(new Set(survivorRan).size, 'two survivors ran one job').to.equal(survivorRan.length);

    const victimRan = (await readFile(out, 'utf8')).split('\n').filter(Boolean);
    const done = await store.listJobs({ status: 'done', limit: 10_000 });
    expect(done.map((j) => j.id).sort()).to.deep.equal([...ids].sort());
    expect(await jobFiles(dir)).to.have.length(2000);
    expect(await store.listCorrupt()).to.deep.equal([]);
    // Only the victim's batch in flight (at most 25 jobs: claimed, maybe run, not recorded) was
    // claimed twice; those count two attempts. Everything else was claimed and ran once.
    const twice = survivorRan.filter((id) => victimRan.includes(id));
    const reclaimed = done.filter((j) => j.attempts === 2).map((j) => j.id);
    expect(reclaimed.length).to.be.at.most(25);
    expect(done.every((j) => j.attempts === 1 || j.attempts === 2)).to.equal(true);
    for (const id of twice) expect(reclaimed).to.include(id);
    expect(new Set([...victimRan, ...survivorRan])).to.deep.equal(new Set(ids));
  });
});
