import type { IJobWriter } from '../adder.js';
import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';
import type { JobLogger } from '../context.js';
import { InvalidOptionError } from '../errors.js';
import { defaultRegistry, type JobRegistry } from '../registry.js';
import type { IScheduleStore, ScheduleRecord } from '../schedule-store.js';
import { planFiring, scheduledJob, type FiringPlan } from './firing.js';

export interface SchedulerOptions {
  store: IScheduleStore;
  /** Where firings are written; usually the same provider as `store`. */
  writer: IJobWriter<never>;
  /**
   * Targets this process can run. A schedule whose target is missing still fires (the executor then
   * fails the job as an unknown target, so the reason is recorded on a job) and is logged here.
   */
  registry?: JobRegistry;
  clock?: Clock;
  logger?: JobLogger;
  /** Due schedules read per storage round trip; default 100. */
  batchSize?: number;
  /** At most this many due schedules handled per tick (the rest wait a tick); default 1000. */
  maxPerTick?: number;
}

/** What happened to one due schedule during a tick. */
type Outcome = { kind: 'fired'; created: number } | { kind: 'unreadable' } | { kind: 'error' };

const silentLogger: JobLogger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * Turns due schedules into jobs. The executor calls `tick()` about once a second; any number of
 * Scheduler instances, in any number of processes, may tick against one store.
 *
 * Per due schedule, a tick:
 *   1. computes the fire times due (cron.ts; misfire policy in firing.ts);
 *   2. inserts one job per fire time, keyed (schedule, fire time) — FIRST, and idempotently: if the
 *      key is taken, another scheduler (or this one before a crash) already fired that time, and
 *      the store answers the existing job instead of writing a second one;
 *   3. advances nextFireAt / lastFireAt with a compare-and-set on the version it read.
 * Losing the compare-and-set is normal: someone else advanced or edited the schedule meanwhile,
 * and since their view is at least as new, nothing is to be done. Because the insert comes first, a
 * crash between 2 and 3 leaves a schedule that looks unfired; the next tick recomputes the same keys
 * and writes nothing new. Doing 3 before 2 would instead lose the firing on such a crash.
 *
 * Never double-firing rests on the unique key, not on the CAS. The CAS only keeps the schedule
 * moving and keeps the work small. One consequence under races: with `skip`, a scheduler holding a
 * stale read may fire an older missed time that a faster scheduler dropped — each fire time still
 * fires at most once.
 *
 * One bad schedule never stops the loop: an unreadable stored expression is logged (once per
 * version) and skipped, a failed write is logged and retried next tick.
 */
export class Scheduler {
  private readonly store: IScheduleStore;
  private readonly writer: IJobWriter<never>;
  private readonly registry: JobRegistry;
  private readonly clock: Clock;
  private readonly logger: JobLogger;
  private readonly batchSize: number;
  private readonly maxPerTick: number;
  /** name → version already reported unreadable, so a broken schedule is logged once, not every second. */
  private readonly reported = new Map<string, number>();
  private running = false;

  constructor(options: SchedulerOptions) {
    this.store = options.store;
    this.writer = options.writer;
    this.registry = options.registry ?? defaultRegistry;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.batchSize = positiveInt('batchSize', options.batchSize ?? 100);
    this.maxPerTick = positiveInt('maxPerTick', options.maxPerTick ?? 1000);
  }

  /**
   * Fires what is due now. Resolves to the number of jobs this call created (firings another
   * scheduler had already written are not counted). A call made while this instance's previous tick
   * is still running does nothing and resolves 0: the running tick covers it, and piling ticks up
   * behind a slow store would only add load to it.
   *
   * Rejects only if the store cannot list due schedules (e.g. the database is down); the caller
   * logs and tries again on its next tick.
   */
  async tick(): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    try {
      return await this.fireDue(this.clock.now());
    } finally {
      this.running = false;
    }
  }

  private async fireDue(now: Date): Promise<number> {
    let created = 0;
    // Schedules handled this tick (fired, skipped as unreadable, or failed). Unreadable ones stay
    // due forever, so each round asks for `batchSize` more than have been seen: they can never
    // crowd the readable ones out of the listing.
    const seen = new Set<string>();
    while (seen.size < this.maxPerTick) {
      const limit = Math.min(this.batchSize, this.maxPerTick - seen.size) + seen.size;
      const due = await this.store.listDueSchedules(now, limit);
      const fresh = due.filter((s) => !seen.has(s.name));
      if (fresh.length === 0) break;
      for (const schedule of fresh) {
        seen.add(schedule.name);
        const outcome = await this.fireOne(schedule, now);
        if (outcome.kind === 'fired') created += outcome.created;
      }
      if (due.length < limit) break;
    }
    return created;
  }

  private async fireOne(schedule: ScheduleRecord, now: Date): Promise<Outcome> {
    let plan: FiringPlan;
    try {
      plan = planFiring(schedule, now);
    } catch (err) {
      if (this.reported.get(schedule.name) !== schedule.version) {
        this.reported.set(schedule.name, schedule.version);
        this.logger.error(
          { schedule: schedule.name, cron: schedule.cron, timeZone: schedule.timeZone, err },
          `schedule "${schedule.name}" cannot be read and is skipped until it is updated: ${(err as Error).message}`,
        );
      }
      return { kind: 'unreadable' };
    }
    this.reported.delete(schedule.name);
    if (plan.fireTimes.length === 0) return { kind: 'fired', created: 0 };
    if (!this.registry.has(schedule.target)) {
      this.logger.warn(
        { schedule: schedule.name, target: schedule.target },
        `schedule "${schedule.name}" targets "${schedule.target}", which is not registered here; ` +
          'its job is written anyway and will fail as an unknown target unless an executor that knows it claims it',
      );
    }
    if (plan.dropped > 0) {
      this.logger.info(
        { schedule: schedule.name, dropped: plan.dropped, fired: plan.fireTimes.length },
        `schedule "${schedule.name}" missed ${plan.dropped} fire time(s) that its misfire policy drops`,
      );
    }
    const jobs = plan.fireTimes.map((t) => scheduledJob(schedule, t));
    let created: number;
    try {
      const ids = await this.writer.insertJobs(jobs);
      created = ids.filter((id, i) => id === jobs[i].id).length;
    } catch (err) {
      this.logger.error(
        { schedule: schedule.name, err },
        `schedule "${schedule.name}": writing its jobs failed; retried next tick`,
      );
      return { kind: 'error' };
    }
    const advanced: ScheduleRecord = {
      ...schedule,
      nextFireAt: plan.nextFireAt,
      lastFireAt: plan.fireTimes[plan.fireTimes.length - 1],
      updatedAt: now,
    };
    try {
      // False means someone else moved the schedule on; see the class comment.
      await this.store.updateSchedule(advanced, schedule.version);
    } catch (err) {
      // The jobs exist; the next tick recomputes the same keys, writes nothing new, and advances.
      this.logger.error(
        { schedule: schedule.name, err },
        `schedule "${schedule.name}": advancing it failed; retried next tick`,
      );
    }
    return { kind: 'fired', created };
  }
}

function positiveInt(option: string, value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw new InvalidOptionError(option, `must be an integer >= 1, got ${String(value)}`);
  return value;
}
