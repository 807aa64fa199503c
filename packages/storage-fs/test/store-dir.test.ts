import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StoreSetupError, type NewJob } from '@oddjob/core';
import { newJobFixture } from '@oddjob/core/testing';
import { expect } from 'chai';
import { FileJobStore } from '../src/index.js';
import { rejection, removeDir, tempDir } from './helpers.js';
import { startChild } from './processes.js';

/** A job row as insertJobs takes it; the id is all these tests vary. */
const jobRow = (id: string): NewJob =>
  newJobFixture(id, { queue: 'q', retry: { maxAttempts: 1, backoff: { kind: 'fixed', delayMs: 0 } } });

describe('fs store: opening a directory', function () {
  let base: string;
  beforeEach(async function () {
    base = await tempDir();
  });
  afterEach(async function () {
    await chmod(base, 0o700).catch(() => undefined);
    await removeDir(base);
  });

  it('refuses a missing directory, naming it and saying how to create a store', async function () {
    const err = await rejection(FileJobStore.open({ dir: join(base, 'nope') }));
    expect(err).to.be.instanceOf(StoreSetupError);
    expect(err.message).to.include(join(base, 'nope')).and.to.include('does not exist').and.to.include('create: true');
  });

  it('refuses a directory that is not an OddJob store, and will not create one among other files', async function () {
    await writeFile(join(base, 'thesis.tex'), '...');
    const err = await rejection(FileJobStore.open({ dir: base }));
    expect(err).to.be.instanceOf(StoreSetupError);
    expect(err.message).to.include('not an OddJob store');
    const err2 = await rejection(FileJobStore.open({ dir: base, create: true }));
    expect(err2.message).to.include('not empty');
  });

  it('refuses a marker from a newer layout version', async function () {
    await FileJobStore.create(base);
    await writeFile(join(base, 'oddjob-store.json'), JSON.stringify({ format: 'oddjob-fs', version: 99 }));
    expect((await rejection(FileJobStore.open({ dir: base }))).message).to.include('newer version');
  });

  it('refuses a directory it cannot write', async function () {
    const dir = join(base, 'store');
    await FileJobStore.create(dir);
    if (process.getuid?.() === 0) {
      // root may write anywhere, so the check is observed from a child running as nobody.
      await chmod(base, 0o755);
      await chmod(dir, 0o555);
      const child = startChild(['open', dir], { uid: 65534, gid: 65534 });
      expect(await child.exited).to.equal(3);
      expect(child.stderr()).to.include(dir).and.to.include('not readable and writable');
      await chmod(dir, 0o755);
      return;
    }
    await chmod(dir, 0o555);
    const err = await rejection(FileJobStore.open({ dir }));
    expect(err).to.be.instanceOf(StoreSetupError);
    expect(err.message).to.include('not readable and writable');
    await chmod(dir, 0o755);
  });

  it('creates a store with create: true (parents included), explicitly, and reopens it', async function () {
    const dir = join(base, 'a', 'b');
    const s1 = await FileJobStore.open({ dir, create: true });
    const [id] = await s1.insertJobs([jobRow('job-1')]);
    await s1.close();
    const s2 = await FileJobStore.open({ dir });
    expect((await s2.getJob(id))?.status).to.equal('new');
    await s2.close();
    await mkdir(join(base, 'empty'));
    await FileJobStore.create(join(base, 'empty'));
    await (await FileJobStore.open({ dir: join(base, 'empty') })).close();
  });

  it('a lazily opened store reports the setup error from its first operation', async function () {
    const store = new FileJobStore({ dir: join(base, 'missing') });
    const err = await rejection(store.countJobs());
    expect(err).to.be.instanceOf(StoreSetupError);
  });

  it('rejects job ids that cannot be part of a file name, naming the option', async function () {
    const store = await FileJobStore.open({ dir: join(base, 's'), create: true });
    const err = await rejection(store.insertJobs([jobRow('../x')]));
    expect(err.message).to.include('"id"');
    await store.close();
  });
});
