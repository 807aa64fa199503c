import { expect } from 'chai';
import { FileJobQueueAdder, FileJobStore } from '../src/index.js';
import { freshStore, leaseOf, removeDir } from './helpers.js';

/** Waits (generously: this is a wake-up, not a speed test) until `heard` holds `queue`. */
async function heardOf(heard: string[], queue: string): Promise<void> {
  for (let i = 0; i < 500 && !heard.includes(queue); i++) await new Promise((r) => setTimeout(r, 10));
  expect(heard, `no wake-up for ${queue}`).to.include(queue);
}

describe('fs store: wake-ups from other processes (directory watch)', function () {
  let dir: string;
  let writer: FileJobStore;
  let waiter: FileJobStore;

  beforeEach(async function () {
    ({ store: writer, dir } = await freshStore({ onProblem: () => undefined }));
    // A second store object on the same directory shares nothing in memory with the first: what it
    // hears, it hears from the file system, as another process would.
    waiter = await FileJobStore.open({ dir, retention: false, onProblem: () => undefined });
  });
  afterEach(async function () {
    await waiter.close();
    await writer.close();
    await removeDir(dir);
  });

  it('hears jobs added, released and added to a new queue by another store on the directory', async function () {
    await new FileJobQueueAdder(writer).addJob({ target: 't', method: 'run', args: [] }, { queue: 'old' });
    const heard: string[] = [];
    const off = waiter.onJobsAvailable((q) => heard.push(q));
    try {
      await new Promise((r) => setTimeout(r, 100)); // the watch is set up in the background
      heard.length = 0;
      await new FileJobQueueAdder(writer).addJob({ target: 't', method: 'run', args: [] }, { queue: 'old' });
      await heardOf(heard, 'old');

      // A job claimed elsewhere and released at shutdown: back in ready/, heard at once.
      const [job] = await writer.claimJobs({ queues: ['old'], limit: 1, owner: 'w', leaseMs: 60_000 });
      heard.length = 0;
      expect(await writer.recordOutcomes([{ kind: 'released', lease: leaseOf(job) }])).to.deep.equal(['ok']);
      await heardOf(heard, 'old');

      await new FileJobQueueAdder(writer).addJob({ target: 't', method: 'run', args: [] }, { queue: 'brand-new' });
      await heardOf(heard, 'brand-new');
    } finally {
      off();
    }
  });
});
