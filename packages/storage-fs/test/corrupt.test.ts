import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { StorageOperationError } from '@oddjob/core';
import { FileJobQueueAdder, UnreadableFileError, type FileJobStore, type StoreProblem } from '../src/index.js';
import { discardStore, freshStore, jobFiles } from './helpers.js';

describe('fs store: corrupt files', function () {
  let dir: string;
  let store: FileJobStore;
  let problems: StoreProblem[];
  const claim = (limit = 10) => store.claimJobs({ queues: ['default'], limit, owner: 'w', leaseMs: 60_000 });

  beforeEach(async function () {
    problems = [];
    ({ store, dir } = await freshStore({ onProblem: (p) => problems.push(p) }));
  });
  afterEach(() => discardStore({ store, dir }));

  async function addThree(): Promise<string[]> {
    return new FileJobQueueAdder(store).addJobs(
      [0, 1, 2].map((n) => ({ call: { target: 't', method: 'run', args: [n] } })),
    );
  }

  it('a half-written job file goes to corrupt/ with a reason, is never run, and the other jobs are fine', async function () {
    const [a, b, c] = await addThree();
    const victim = (await jobFiles(dir)).find((f) => f.includes(b))!;
    // What a torn write looks like: the first part of the JSON and nothing after it.
    await writeFile(join(dir, 'queues', victim), '{"format":1,"id":"' + b + '","queue":"def');
    const claimed = await claim();
    expect(claimed.map((j) => j.id)).to.deep.equal([a, c]);
    const corrupt = await store.listCorrupt();
    expect(corrupt).to.have.length(1);
    expect(corrupt[0].file).to.include(b);
    expect(corrupt[0].reason).to.match(/half-written|not complete JSON/);
    expect(corrupt[0].reason).to.include('default/running/');
    expect(await store.getJob(b)).to.equal(null);
    expect(await claim()).to.deep.equal([]);
    // Moved aside, not deleted: the bytes are still there for a person to look at.
    expect((await readdir(join(dir, 'corrupt'))).filter((n) => n.includes(b))).to.have.length(2);
    // And said so as it happened, naming where the file went.
    expect(problems).to.have.length(1);
    expect(problems[0].kind).to.equal('quarantined');
    expect(problems[0].path).to.equal(corrupt[0].file);
    expect(store.problems()).to.deep.equal(problems);
  });

  it('UnreadableFileError belongs to the storage error family', function () {
    const err = new UnreadableFileError('the file is empty');
    expect(err).to.be.instanceOf(StorageOperationError);
    expect(err.name).to.equal('UnreadableFileError');
    expect(err.provider).to.equal('fs');
    expect(err.transient).to.equal(false);
  });

  it('garbage (valid name, not a job) and a job file holding another job are both moved aside', async function () {
    const [a, b, c] = await addThree();
    const files = await jobFiles(dir);
    await writeFile(
      join(
        dir,
        'queues',
        files.find((f) => f.includes(a))!,
      ),
      Buffer.from([0, 159, 146, 150, 0, 0]),
    );
    const bFile = files.find((f) => f.includes(b))!;
    await writeFile(join(dir, 'queues', bFile), JSON.stringify({ format: 1, id: 'someone-else' }));
    expect((await claim()).map((j) => j.id)).to.deep.equal([c]);
    const reasons = (await store.listCorrupt()).map((x) => x.reason).join('\n');
    expect(reasons).to.include(a).and.to.include(b);
  });

  it('a file with a name the store never writes is moved aside on sight, not mistaken for a job', async function () {
    await addThree();
    await writeFile(join(dir, 'queues', 'default', 'ready', 'notes.txt'), 'hello');
    expect(await claim()).to.have.length(3);
    const corrupt = await store.listCorrupt();
    expect(corrupt).to.have.length(1);
    expect(corrupt[0].reason).to.include('notes.txt');
  });

  it('a corrupt file found by an admin query is moved aside too, and the query still answers', async function () {
    const [a, b] = await addThree();
    await writeFile(
      join(
        dir,
        'queues',
        (await jobFiles(dir)).find((f) => f.includes(a))!,
      ),
      '',
    );
    const listed = await store.listJobs();
    expect(listed.map((j) => j.id)).to.not.include(a);
    expect(listed.map((j) => j.id)).to.include(b);
    expect((await store.listCorrupt())[0].reason).to.include('empty');
  });
});
