import { expect } from 'chai';
import type { IScheduleStore, ScheduleRecord } from '../schedule-store.js';
import { JobRegistry } from '../registry.js';
import { DEFAULT_RETRY_POLICY } from '../retry.js';
import { serializeArgs } from '../serializer.js';
import { ScheduleManager } from '../schedule/schedule-manager.js';
import { Scheduler } from '../schedule/scheduler.js';
import { scheduleJobKey } from '../schedule/firing.js';
import type { ContractHarness, HarnessFactory } from './contract.js';
import { TestClock } from './test-clock.js';

const MINUTE = 60_000;
const T0 = Date.UTC(2030, 0, 1, 12, 0, 0);

class ContractScheduledJob {
  async run(_label: string): Promise<void> {}
}

function record(name: string, overrides: Partial<ScheduleRecord> = {}): ScheduleRecord {
  return {
    name,
    cron: '*/5 * * * *',
    timeZone: 'Europe/Berlin',
    target: 'contract.scheduled',
    method: 'run',
    args: serializeArgs(['x', new Date(T0), 7n]),
    queue: 'sched',
    retry: DEFAULT_RETRY_POLICY,
    metadata: { tenant: 't1', nested: { a: [1, 2] } },
    misfire: { kind: 'catchUp', maxRuns: 3 },
    priority: 0,
    concurrency: null,
    paused: false,
    nextFireAt: new Date(T0 + 5 * MINUTE),
    lastFireAt: null,
    version: 1,
    createdAt: new Date(T0),
    updatedAt: new Date(T0),
    ...overrides,
  };
}

/**
 * Wraps a store so that a scheduler using it "crashes" between writing its jobs and advancing the
 * schedule: every compare-and-set is dropped (answered false, nothing written).
 */
function crashBeforeAdvance(store: IScheduleStore): IScheduleStore {
  return {
    insertSchedule: (s) => store.insertSchedule(s),
    getSchedule: (n) => store.getSchedule(n),
    listSchedules: () => store.listSchedules(),
    updateSchedule: async () => false,
    deleteSchedule: (n) => store.deleteSchedule(n),
    listDueSchedules: (now, limit) => store.listDueSchedules(now, limit),
  };
}

/**
 * The schedule half of the storage contract: what any IScheduleStore must do for the scheduler to
 * be correct on it (unique names, compare-and-set, the due listing), and the scheduler end to end
 * on it (no double firing with two schedulers, no re-firing after a restart or a crash).
 *
 *   describeScheduleStoreContract('postgres', async (clock) => harness);
 *
 * The harness is the same one `describeStorageContract` takes; its stores must read "now" from
 * the clock given.
 */
export function describeScheduleStoreContract(name: string, create: HarnessFactory): void {
  describe(`schedule store contract: ${name}`, function () {
    let clock: TestClock;
    let h: ContractHarness;
    let registry: JobRegistry;

    beforeEach(async function () {
      clock = new TestClock(T0);
      h = await create(clock);
      registry = new JobRegistry().register('contract.scheduled', ContractScheduledJob);
    });

    afterEach(async function () {
      await h.close();
    });

    const scheduler = (store: IScheduleStore = h.schedules) =>
      new Scheduler({ store, writer: h.writer, registry, clock });
    const manager = () => new ScheduleManager({ store: h.schedules, writer: h.writer, registry, clock });

    describe('records', function () {
      it('stores every field and reads it back as it was written', async function () {
        const r = record('a');
        expect(await h.schedules.insertSchedule(r)).to.equal(true);
        expect(await h.schedules.getSchedule('a')).to.deep.equal(r);
        const fired = record('b', {
          nextFireAt: null,
          lastFireAt: new Date(T0 - MINUTE),
          paused: true,
          misfire: { kind: 'skip' },
          priority: -7,
          concurrency: { key: 'nightly-lock', limit: 2, alreadyRunning: 'skip' },
        });
        await h.schedules.insertSchedule(fired);
        expect(await h.schedules.getSchedule('b')).to.deep.equal(fired);
      });

      it("fires jobs with its priority and key: 'skip' makes no job while the last one is unfinished", async function () {
        const m = manager();
        await m.create(
          'guarded',
          { target: 'contract.scheduled', method: 'run', args: ['x'] },
          {
            cron: '* * * * *',
            alreadyRunning: 'skip',
            priority: 3,
          },
        );
        const stored = (await h.schedules.getSchedule('guarded'))!;
        expect(stored.priority).to.equal(3);
        expect(stored.concurrency).to.deep.equal({ key: 'oddjob.schedule:guarded', limit: 1, alreadyRunning: 'skip' });
        const first = await m.triggerNow('guarded');
        const second = await m.triggerNow('guarded');
        expect(second).to.equal(first);
        const job = await h.admin.getJob(first);
        expect([job!.priority, job!.concurrency?.key]).to.deep.equal([3, 'oddjob.schedule:guarded']);
        const patched = await m.update('guarded', { alreadyRunning: 'allow' });
        expect(patched.concurrency!.alreadyRunning).to.equal('allow');
        expect(await m.triggerNow('guarded')).to.not.equal(first);
      });

      it('refuses a second schedule of the same name and keeps the first', async function () {
        await h.schedules.insertSchedule(record('a', { queue: 'first' }));
        expect(await h.schedules.insertSchedule(record('a', { queue: 'second' }))).to.equal(false);
        expect((await h.schedules.getSchedule('a'))!.queue).to.equal('first');
      });

      it('answers null for an unknown name and lists all schedules by name', async function () {
        expect(await h.schedules.getSchedule('nope')).to.equal(null);
        for (const n of ['m', 'a', 'z', 'b']) await h.schedules.insertSchedule(record(n));
        expect((await h.schedules.listSchedules()).map((s) => s.name)).to.deep.equal(['a', 'b', 'm', 'z']);
      });

      it('updates only from the expected version, and bumps the version by one whatever the record says', async function () {
        await h.schedules.insertSchedule(record('a'));
        const changed = record('a', { cron: '@hourly', version: 99, nextFireAt: new Date(T0 + 60 * MINUTE) });
        expect(await h.schedules.updateSchedule(changed, 1)).to.equal(true);
        const stored = (await h.schedules.getSchedule('a'))!;
        expect(stored.version).to.equal(2);
        expect(stored.cron).to.equal('@hourly');
        expect(stored.nextFireAt).to.deep.equal(new Date(T0 + 60 * MINUTE));
        // A writer that read version 1 has lost: nothing is written.
        expect(await h.schedules.updateSchedule(record('a', { cron: '@daily' }), 1)).to.equal(false);
        expect((await h.schedules.getSchedule('a'))!.cron).to.equal('@hourly');
        expect(await h.schedules.updateSchedule(record('a', { cron: '@daily' }), 2)).to.equal(true);
        expect((await h.schedules.getSchedule('a'))!.version).to.equal(3);
        expect(await h.schedules.updateSchedule(record('ghost'), 1)).to.equal(false);
        expect(await h.schedules.getSchedule('ghost')).to.equal(null);
      });

      it('lets exactly one of several concurrent compare-and-sets on one version win', async function () {
        await h.schedules.insertSchedule(record('a'));
        const results = await Promise.all(
          Array.from({ length: 8 }, (_, i) => h.schedules.updateSchedule(record('a', { queue: `q${i}` }), 1)),
        );
        expect(results.filter((r) => r)).to.have.length(1);
        const stored = (await h.schedules.getSchedule('a'))!;
        expect(stored.version).to.equal(2);
        expect(stored.queue).to.equal(`q${results.indexOf(true)}`);
      });

      it('deletes by name', async function () {
        await h.schedules.insertSchedule(record('a'));
        expect(await h.schedules.deleteSchedule('a')).to.equal(true);
        expect(await h.schedules.deleteSchedule('a')).to.equal(false);
        expect(await h.schedules.getSchedule('a')).to.equal(null);
        expect(await h.schedules.insertSchedule(record('a'))).to.equal(true);
      });

      it('hands out copies: changing a returned record changes nothing stored', async function () {
        await h.schedules.insertSchedule(record('a'));
        const got = (await h.schedules.getSchedule('a'))!;
        got.queue = 'mutated';
        got.metadata.tenant = 'mutated';
        got.nextFireAt!.setTime(0);
        const again = (await h.schedules.getSchedule('a'))!;
        expect(again.queue).to.equal('sched');
        expect(again.metadata.tenant).to.equal('t1');
        expect(again.nextFireAt).to.deep.equal(new Date(T0 + 5 * MINUTE));
      });
    });

    describe('due listing', function () {
      it('lists unpaused schedules with nextFireAt <= now, soonest first, at most limit', async function () {
        const at = (min: number) => new Date(T0 + min * MINUTE);
        await h.schedules.insertSchedule(record('late', { nextFireAt: at(-1) }));
        await h.schedules.insertSchedule(record('exact', { nextFireAt: at(0) }));
        await h.schedules.insertSchedule(record('oldest', { nextFireAt: at(-30) }));
        await h.schedules.insertSchedule(record('future', { nextFireAt: new Date(T0 + 1) }));
        await h.schedules.insertSchedule(record('paused', { nextFireAt: at(-60), paused: true }));
        await h.schedules.insertSchedule(record('finished', { nextFireAt: null }));
        const now = new Date(T0);
        expect((await h.schedules.listDueSchedules(now, 10)).map((s) => s.name)).to.deep.equal([
          'oldest',
          'late',
          'exact',
        ]);
        expect((await h.schedules.listDueSchedules(now, 2)).map((s) => s.name)).to.deep.equal(['oldest', 'late']);
        const due = await h.schedules.listDueSchedules(new Date(T0 + 1), 10);
        expect(due.map((s) => s.name)).to.deep.equal(['oldest', 'late', 'exact', 'future']);
        expect(due[0]).to.deep.equal(await h.schedules.getSchedule('oldest'));
      });

      it('follows updates: advanced, paused and deleted schedules leave the listing', async function () {
        await h.schedules.insertSchedule(record('a', { nextFireAt: new Date(T0 - MINUTE) }));
        await h.schedules.insertSchedule(record('b', { nextFireAt: new Date(T0 - MINUTE) }));
        await h.schedules.insertSchedule(record('c', { nextFireAt: new Date(T0 - MINUTE) }));
        await h.schedules.updateSchedule(record('a', { nextFireAt: new Date(T0 + MINUTE) }), 1);
        await h.schedules.updateSchedule(record('b', { nextFireAt: new Date(T0 - MINUTE), paused: true }), 1);
        await h.schedules.deleteSchedule('c');
        expect(await h.schedules.listDueSchedules(new Date(T0), 10)).to.deep.equal([]);
      });
    });

    describe('scheduler on this store', function () {
      it('fires one job per fire time with two schedulers ticking together, and restarts fire nothing twice', async function () {
        const m = manager();
        await m.create(
          'every5',
          { target: 'contract.scheduled', method: 'run', args: ['five'] },
          {
            cron: '*/5 * * * *',
            queue: 'sched',
            misfire: { kind: 'catchUp', maxRuns: 100 },
          },
        );
        const a = scheduler();
        const b = scheduler();
        let created = 0;
        for (let i = 0; i < 12; i++) {
          clock.advance(2.5 * MINUTE);
          const counts = await Promise.all([a.tick(), b.tick(), a.tick(), b.tick()]);
          created += counts.reduce((x, y) => x + y, 0);
        }
        // 30 minutes from 12:00: fire times 12:05 ... 12:30.
        const jobs = await h.admin.listJobs({ queue: 'sched', limit: 1000 });
        const keys = jobs.map((j) => j.uniqueKey).sort();
        const expected = [5, 10, 15, 20, 25, 30].map((m) => scheduleJobKey('every5', new Date(T0 + m * MINUTE)));
        expect(keys).to.deep.equal(expected);
        expect(created).to.equal(6);
        expect(jobs.every((j) => j.target === 'contract.scheduled' && j.method === 'run')).to.equal(true);

        // A fresh scheduler (a restarted process) at the same time finds nothing to do.
        expect(await scheduler().tick()).to.equal(0);
        const s = (await h.schedules.getSchedule('every5'))!;
        expect(s.lastFireAt).to.deep.equal(new Date(T0 + 30 * MINUTE));
        expect(s.nextFireAt).to.deep.equal(new Date(T0 + 35 * MINUTE));
      });

      it('does not re-fire a time whose job was written by a scheduler that died before advancing the schedule', async function () {
        await manager().create(
          'hourly',
          { target: 'contract.scheduled', method: 'run', args: ['h'] },
          { cron: '@hourly' },
        );
        clock.advance(60 * MINUTE);
        // The first process writes the 13:00 job, then "crashes": its compare-and-set never lands.
        expect(await scheduler(crashBeforeAdvance(h.schedules)).tick()).to.equal(1);
        expect((await h.schedules.getSchedule('hourly'))!.nextFireAt).to.deep.equal(new Date(T0 + 60 * MINUTE));
        // The restarted process sees 13:00 as due, writes nothing new, and moves the schedule on.
        clock.advance(1000);
        expect(await scheduler().tick()).to.equal(0);
        const s = (await h.schedules.getSchedule('hourly'))!;
        expect(s.nextFireAt).to.deep.equal(new Date(T0 + 120 * MINUTE));
        const jobs = await h.admin.listJobs({ limit: 100 });
        expect(jobs.map((j) => j.uniqueKey)).to.deep.equal([scheduleJobKey('hourly', new Date(T0 + 60 * MINUTE))]);
      });

      it('makes jobs that are claimable at once and carry queue, arguments and origin', async function () {
        await manager().create('once', ContractScheduledJob, (j) => j.run('typed'), {
          cron: '@once',
          at: new Date(T0 + MINUTE),
          queue: 'sched',
          metadata: { tenant: 't9' },
        });
        expect(await scheduler().tick()).to.equal(0);
        clock.advance(MINUTE);
        expect(await scheduler().tick()).to.equal(1);
        const [claimed] = await h.manager.claimJobs({
          queues: ['sched'],
          limit: 10,
          owner: 'contract',
          leaseMs: 30_000,
        });
        expect(claimed).to.not.equal(undefined);
        expect(claimed.args).to.equal(serializeArgs(['typed']));
        expect(claimed.metadata).to.deep.equal({
          tenant: 't9',
          'oddjob.schedule': { name: 'once', fireAt: new Date(T0 + MINUTE).toISOString(), manual: false },
        });
        expect((await h.schedules.getSchedule('once'))!.nextFireAt).to.equal(null);
        clock.advance(60 * MINUTE);
        expect(await scheduler().tick()).to.equal(0);
      });
    });
  });
}
