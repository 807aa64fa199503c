import { expect } from 'chai';
import type { ContractContext } from './contract-context.js';

/** Runs `fn` and answers what it threw (undefined if nothing). */
async function thrown(fn: () => Promise<unknown>): Promise<Error | undefined> {
  try {
    await fn();
    return undefined;
  } catch (e) {
    return e as Error;
  }
}

/** Expects `fn` to be refused with InvalidOptionError (or JobArgumentError) naming `option`. */
async function refused(fn: () => Promise<unknown>, option: string, name = 'InvalidOptionError'): Promise<void> {
  const e = await thrown(fn);
  expect(e, `expected a refusal naming ${option}`).to.not.equal(undefined);
  expect(e!.name, e!.message).to.equal(name);
  expect(e!.message).to.contain(option);
}

/**
 * The input edges: every store accepts or refuses the same inputs, with the same error naming the
 * option (core's checks, which every store calls), so the stores cannot drift apart again.
 */
export function describeEdgeContract(t: ContractContext, _storeName: string): void {
  describe('input edges', function () {
    it('leaseMs must be an integer from 1 to 2^31-1: 0, fractional, negative and huge are refused', async function () {
      for (const leaseMs of [0, 1.5, -1, 2 ** 31, 1e16, Number.NaN]) {
        await refused(() => t.h.manager.claimJobs({ queues: ['default'], limit: 1, owner: 'o', leaseMs }), 'leaseMs');
      }
      await t.add(1);
      const [job] = await t.claim(1, 'o', ['default'], 2 ** 31 - 1);
      expect(job, 'the largest lease is accepted').to.not.equal(undefined);
      for (const leaseMs of [0, 0.5, -5, 2 ** 31])
        await refused(() => t.h.manager.extendLeases([t.leaseOf(job)], leaseMs), 'leaseMs');
    });

    it('a claim limit must be an integer from 1 to 2^31-1: 0, negative, fractional and huge are refused', async function () {
      for (const limit of [0, -1, 2.5, 2 ** 31, 1e12]) await refused(() => t.claim(limit), 'limit');
    });

    it('a list limit must be an integer from 0 to 2^31-1; 0 answers nothing', async function () {
      await t.add(1);
      expect(await t.h.admin.listJobs({ limit: 0 })).to.deep.equal([]);
      for (const limit of [-1, 1.5, 2 ** 31, 1e12]) await refused(() => t.h.admin.listJobs({ limit }), 'limit');
      await refused(() => t.h.admin.listJobs({ offset: -1 }), 'offset');
    });

    it('afterId must be a string of at most 100 characters', async function () {
      const id = await t.add(1);
      expect((await t.h.admin.listJobs({ afterId: 'x'.repeat(100) })).map((j) => j.id)).to.deep.equal([]);
      expect((await t.h.admin.listJobs({ afterId: '' })).map((j) => j.id)).to.deep.equal([id]);
      await refused(() => t.h.admin.listJobs({ afterId: 'x'.repeat(101) }), 'afterId');
      await refused(() => t.h.admin.listJobs({ afterId: 42 as never }), 'afterId');
    });

    it('repeated statuses in a filter count once; an unknown status is refused naming it', async function () {
      const id = await t.add(1);
      const repeated = Array.from({ length: 3000 }, () => 'new' as const);
      const jobs = await t.h.admin.listJobs({ status: repeated });
      expect(jobs.map((j) => j.id)).to.deep.equal([id]);
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- the cast lets an invalid status through on purpose
      await refused(() => t.h.admin.listJobs({ status: ['new', 'bogus' as never] }), 'status');
      const [job] = await t.claim(1);
      await t.record({ kind: 'done', lease: t.leaseOf(job) });
      expect(await t.h.admin.purgeJobs({ statuses: Array.from({ length: 3000 }, () => 'done' as const) })).to.equal(1);
      await refused(() => t.h.admin.purgeJobs({ statuses: ['bogus' as never] }), 'statuses');
    });

    it('purging a non-final status is refused, and nothing is purged', async function () {
      const id = await t.add(1);
      for (const status of ['new', 'processing', 'retry'] as const) {
        await refused(() => t.h.admin.purgeJobs({ statuses: ['done', status as never] }), 'statuses');
      }
      expect((await t.h.admin.getJob(id))!.status).to.equal('new');
    });

    it('maxAttempts beyond 2^31-1 is refused at enqueue, naming it', async function () {
      await refused(
        () => t.add(1, { retry: { maxAttempts: 2 ** 31, backoff: { kind: 'fixed', delayMs: 0 } } }),
        'maxAttempts',
      );
      const id = await t.add(1, { retry: { maxAttempts: 2 ** 31 - 1, backoff: { kind: 'fixed', delayMs: 0 } } });
      expect((await t.h.admin.getJob(id))!.retry.maxAttempts).to.equal(2 ** 31 - 1);
    });

    it('empty and oversized names are refused naming the option', async function () {
      await refused(() => t.add(1, { queue: '' }), 'queue');
      await refused(() => t.add(1, { queue: 'q'.repeat(101) }), 'queue');
      await refused(() => t.adder.addJob({ target: '', method: 'run', args: [] }), 'target');
      await refused(() => t.adder.addJob({ target: 't'.repeat(201), method: 'run', args: [] }), 'target');
      await refused(() => t.adder.addJob({ target: 't', method: 'm'.repeat(201), args: [] }), 'method');
      await refused(() => t.add(1, { uniqueKey: '' }), 'uniqueKey');
      await refused(() => t.add(1, { uniqueKey: 'k'.repeat(513) }), 'uniqueKey');
      expect(await t.add(1, { queue: 'q'.repeat(100) })).to.be.a('string');
    });

    it('a huge delayMs is refused naming delayMs, and the queue keeps running its due jobs', async function () {
      for (const delayMs of [1e16, 1e300, 8.64e15]) await refused(() => t.add(1, { delayMs }), 'delayMs');
      const due = await t.adder.addJobs(
        Array.from({ length: 10 }, (_, i) => ({ call: { target: 't', method: 'run', args: [i] } })),
      );
      const claimed = await t.claim(100);
      expect(claimed.map((j) => j.id).sort()).to.deep.equal([...due].sort());
    });

    it('a runAt outside the years 1 to 9999 or an Invalid Date is refused naming runAt', async function () {
      await refused(() => t.add(1, { runAt: new Date(Number.NaN) }), 'runAt');
      await refused(() => t.add(1, { runAt: new Date('+010000-01-01T00:00:00Z') }), 'runAt');
      await refused(() => t.add(1, { runAt: new Date('-000001-01-01T00:00:00Z') }), 'runAt');
      const id = await t.add(1);
      const [job] = await t.claim(1);
      await t.record({ kind: 'done', lease: t.leaseOf(job) });
      await refused(() => t.h.admin.requeueJob(id, { runAt: new Date('+010000-01-01T00:00:00Z') }), 'runAt');
    });

    it('an Invalid Date argument is refused at enqueue, naming its position', async function () {
      await refused(
        () => t.adder.addJob({ target: 't', method: 'run', args: [1, { at: new Date(Number.NaN) }] }),
        'args[1].at',
        'JobArgumentError',
      );
    });

    it('metadata holding U+0000 is refused at enqueue, naming where', async function () {
      await refused(() => t.add(1, { metadata: { note: 'a\u0000b' } }), 'metadata.note', 'JobArgumentError');
    });
  });
}
