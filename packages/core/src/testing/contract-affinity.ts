import { expect } from 'chai';
import { JobQueueAdder } from '../adder.js';
import { InvalidOptionError } from '../errors.js';
import type { ClaimRequest } from '../manager.js';
import { DEFAULT_TAKEOVER_AFTER_MS } from '../manager.js';
import { call, LEASE } from './contract-context.js';
import type { ContractContext } from './contract-context.js';

const MINUTE = 60_000;

/**
 * The storage contract's part on host affinity: a job pinned to a host is claimed by that host's
 * claims only, until it is overdue by the claim's takeoverAfterMs; then any claim takes it over and
 * the run records the takeover.
 */
export function describeAffinityContract(t: ContractContext): void {
  describe('host affinity', function () {
    const claimAs = (host: string | undefined, extra: Partial<ClaimRequest> = {}) =>
      t.h.manager.claimJobs({
        queues: ['default'],
        limit: 10,
        owner: `exec-${host ?? 'nohost'}`,
        leaseMs: LEASE,
        ...(host === undefined ? {} : { host }),
        ...extra,
      });

    it('stores the pin, and null for an unpinned job', async function () {
      const pinned = await t.add(1, { pinnedHost: 'host-a' });
      const open = await t.add(2);
      expect((await t.h.admin.getJob(pinned))!.pinnedHost).to.equal('host-a');
      expect((await t.h.admin.getJob(open))!.pinnedHost).to.equal(null);
    });

    it('a job pinned to one host is not claimed by another, nor by a claim without a host', async function () {
      await t.add(1, { pinnedHost: 'host-a' });
      expect(await claimAs('host-b')).to.have.length(0);
      expect(await claimAs(undefined)).to.have.length(0);
      t.clock.advance(DEFAULT_TAKEOVER_AFTER_MS); // exactly at the threshold: not older than it yet
      expect(await claimAs('host-b')).to.have.length(0);
    });

    it('its own host claims it, and its run records no takeover', async function () {
      const id = await t.add(1, { pinnedHost: 'host-a' });
      const [job] = await claimAs('host-a');
      expect(job.id).to.equal(id);
      expect(job.pinnedHost).to.equal('host-a');
      const runs = (await t.h.admin.getJob(id, { runs: true }))!.runs!;
      expect(runs.map((r) => [r.host, r.takeover])).to.deep.equal([['host-a', null]]);
    });

    it('passes over jobs pinned elsewhere to claim the unpinned ones behind them', async function () {
      await t.add(1, { pinnedHost: 'host-a' });
      t.clock.advance(1);
      const open = await t.add(2);
      const mine = await t.add(3, { pinnedHost: 'host-b' });
      const jobs = await claimAs('host-b');
      expect(jobs.map((j) => j.id)).to.deep.equal([open, mine]);
    });

    it('unpinned jobs are claimed by every host and by claims without one', async function () {
      const ids = [await t.add(1), await t.add(2), await t.add(3)];
      expect((await claimAs('host-a', { limit: 1 })).map((j) => j.id)).to.deep.equal([ids[0]]);
      expect((await claimAs('host-b', { limit: 1 })).map((j) => j.id)).to.deep.equal([ids[1]]);
      const [last] = await claimAs(undefined);
      expect(last.id).to.equal(ids[2]);
      const runs = (await t.h.admin.getJob(last.id, { runs: true }))!.runs!;
      expect(runs[0].takeover).to.equal(null);
    });

    it('takes over a job overdue past the threshold, and records the takeover in its run', async function () {
      const id = await t.add(1, { pinnedHost: 'host-a' });
      t.clock.advance(DEFAULT_TAKEOVER_AFTER_MS + 1);
      const [job] = await claimAs('host-b');
      expect(job.id).to.equal(id);
      expect(job.host).to.equal('host-b');
      // Recorded while it runs, and still once it is done (the run read off the row).
      let runs = (await t.h.admin.getJob(id, { runs: true }))!.runs!;
      expect(runs.map((r) => [r.state, r.host, r.takeover])).to.deep.equal([
        ['running', 'host-b', { pinnedHost: 'host-a' }],
      ]);
      expect(await t.record({ kind: 'done', lease: t.leaseOf(job) })).to.deep.equal(['ok']);
      runs = await t.h.admin.listRuns(id);
      expect(runs.map((r) => [r.state, r.host, r.takeover])).to.deep.equal([
        ['done', 'host-b', { pinnedHost: 'host-a' }],
      ]);
    });

    it('records the takeover on a stored run, and none on the pinned host run after it', async function () {
      const id = await t.add(1, { pinnedHost: 'host-a' });
      t.clock.advance(DEFAULT_TAKEOVER_AFTER_MS + 1);
      const [taken] = await claimAs(undefined);
      const again = new Date(t.clock.now().getTime());
      expect(
        await t.record({
          kind: 'retry',
          lease: t.leaseOf(taken),
          error: { name: 'Error', message: 'x' },
          runAt: again,
        }),
      ).to.deep.equal(['ok']);
      // Due again at once, so no longer overdue: only its own host may claim it.
      expect(await claimAs('host-b')).to.have.length(0);
      const [own] = await claimAs('host-a');
      expect(own.id).to.equal(id);
      const runs = await t.h.admin.listRuns(id);
      expect(runs.map((r) => [r.state, r.host, r.takeover])).to.deep.equal([
        ['retry', null, { pinnedHost: 'host-a' }],
        ['running', 'host-a', null],
      ]);
    });

    it('honours the claim takeoverAfterMs, 0 included', async function () {
      const id = await t.add(1, { pinnedHost: 'host-a' });
      t.clock.advance(5 * MINUTE);
      expect(await claimAs('host-b', { takeoverAfterMs: 5 * MINUTE })).to.have.length(0);
      t.clock.advance(1);
      expect((await claimAs('host-b', { takeoverAfterMs: 5 * MINUTE })).map((j) => j.id)).to.deep.equal([id]);
      const other = await t.add(2, { pinnedHost: 'host-a' });
      expect(await claimAs('host-b', { takeoverAfterMs: 0 })).to.have.length(0); // due now: not older than now
      t.clock.advance(1);
      expect((await claimAs('host-b', { takeoverAfterMs: 0 })).map((j) => j.id)).to.deep.equal([other]);
    });

    it('a pinned job whose lease expired goes back to its host first', async function () {
      const id = await t.add(1, { pinnedHost: 'host-a' });
      await claimAs('host-a', { leaseMs: 1_000 });
      t.clock.advance(1_001);
      expect(await claimAs('host-b')).to.have.length(0);
      expect((await claimAs('host-a')).map((j) => j.id)).to.deep.equal([id]);
    });

    it('the adder pins every job with pinToHost, unless the job says otherwise', async function () {
      const adder = new JobQueueAdder(t.h.writer, { clock: t.clock, pinToHost: 'web-1' });
      const pinned = await adder.addJob(call(1));
      const elsewhere = await adder.addJob(call(2), { pinnedHost: 'web-2' });
      const open = await adder.addJob(call(3), { pinnedHost: null });
      const [batched] = await adder.addJobs([{ call: call(4) }]);
      const pins = await Promise.all(
        [pinned, elsewhere, open, batched].map(async (id) => (await t.h.admin.getJob(id))!.pinnedHost),
      );
      expect(pins).to.deep.equal(['web-1', 'web-2', null, 'web-1']);
    });

    it('refuses bad pins and thresholds with InvalidOptionError, storing nothing', async function () {
      for (const pinnedHost of ['', 'h'.repeat(256), 42 as unknown as string]) {
        const e = await t.add(1, { pinnedHost }).catch((x: unknown) => x);
        expect(e).to.be.instanceOf(InvalidOptionError);
        expect((e as InvalidOptionError).option).to.equal('pinnedHost');
      }
      for (const pinToHost of ['', 'h'.repeat(256), 7 as unknown as string]) {
        expect(() => new JobQueueAdder(t.h.writer, { pinToHost })).to.throw(InvalidOptionError, /pinToHost/);
      }
      for (const takeoverAfterMs of [-1, 1.5, 2 ** 31, Number.NaN, '5' as unknown as number]) {
        const e = await claimAs('host-a', { takeoverAfterMs }).catch((x: unknown) => x);
        expect(e).to.be.instanceOf(InvalidOptionError);
        expect((e as InvalidOptionError).option).to.equal('takeoverAfterMs');
      }
      expect(await t.h.admin.listJobs()).to.have.length(0);
    });
  });
}
