import { JobArgumentError, newJobId, Retry, type NewJob } from '@oddjob/core';
import { newJobFixture } from '@oddjob/core/testing';
import { expect } from 'chai';
import { openTestStore, requirePostgres } from './pg-helpers.js';

// The insert sends a batch split into shapes (what jobs share) and joined per-job texts; see
// sql/insert-jobs.ts. These pin down that every job still gets exactly its own values.

function job(over: Partial<NewJob> = {}): NewJob {
  return newJobFixture(newJobId(), { method: 'run', args: '{"json":[]}', retry: Retry.fixed(3, 10), ...over });
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('postgres insert: batches of mixed jobs', function () {
  let t: Awaited<ReturnType<typeof openTestStore>>;

  before(async function () {
    await requirePostgres(this);
  });
  beforeEach(async function () {
    t = await openTestStore({ notify: false });
  });
  afterEach(async function () {
    await t?.close();
  });

  it('stores each job of a batch with its own queue, target, method, policy, metadata, time, key and arguments', async function () {
    const at = new Date(Date.UTC(2030, 0, 2, 3, 4, 5, 678));
    const jobs = [
      job({ args: '{"json":["a, b; c","\\u001e is fine escaped","ünï ✓"]}' }),
      job({ queue: 'other', runAt: at, uniqueKey: 'key, with "quotes" and \u001e' }),
      job({ target: 'mailer', method: 'send', retry: Retry.none(), metadata: { tenant: 'acme', tags: ['x', 'y'] } }),
      job({ runAt: at }),
      job({ uniqueKey: 'plain' }),
      job({ queue: 'other', metadata: { tenant: 'acme', tags: ['x', 'y'] } }),
    ];
    expect(await t.store.insertJobs(jobs)).to.deep.equal(jobs.map((j) => j.id));
    for (const j of jobs) {
      const stored = (await t.store.getJob(j.id))!;
      expect(stored, j.id).to.include({
        queue: j.queue,
        target: j.target,
        method: j.method,
        args: j.args,
        uniqueKey: j.uniqueKey,
        status: 'new',
      });
      expect(stored.retry).to.deep.equal(j.retry);
      expect(stored.metadata).to.deep.equal(j.metadata);
      if (j.runAt !== null) expect(stored.runAt.getTime()).to.equal(j.runAt.getTime());
      else expect(stored.runAt.getTime()).to.equal(stored.createdAt.getTime());
    }
  });

  it('answers the holder of a taken key for a batch mixing new and refused jobs, keeping order', async function () {
    const [holder] = await t.store.insertJobs([job({ uniqueKey: 'k1' })]);
    const batch = [job(), job({ uniqueKey: 'k1' }), job({ uniqueKey: 'k2' }), job({ uniqueKey: 'k2' })];
    const ids = await t.store.insertJobs(batch);
    expect(ids).to.deep.equal([batch[0].id, holder, batch[2].id, batch[2].id]);
  });

  it('refuses a batch with an id that is not a UUID or arguments that are not serialized text, naming the job, writing nothing', async function () {
    const good = job();
    const badId = await rejection(t.store.insertJobs([good, job({ id: 'not,a,uuid' })]));
    expect(badId).to.be.instanceOf(JobArgumentError);
    expect(badId.message).to.contain('job 1 id');
    const badArgs = await rejection(t.store.insertJobs([good, job({ args: 'raw\u001etext' })]));
    expect(badArgs).to.be.instanceOf(JobArgumentError);
    expect(badArgs.message).to.contain('job 1 args');
    const badTime = await rejection(t.store.insertJobs([job({ runAt: new Date(NaN) })]));
    expect(badTime).to.be.instanceOf(JobArgumentError);
    expect(badTime.message).to.contain('runAt');
    expect(await t.store.getJob(good.id)).to.equal(null);
  });
});
