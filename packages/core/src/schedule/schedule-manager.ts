import { scheduleJobOptions, optionsOfRecord, SCHEDULE_JOB_OPTIONS } from './schedule-job-options.js';
import type { IJobWriter } from '../adder.js';
import { prepareJob } from '../adder.js';
import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';
import { InvalidOptionError } from '../errors.js';
import type { JobCall, JobMetadata } from '../job.js';
import type { CallRecorder } from '../record-call.js';
import { defaultRegistry, type JobClass, type JobRegistry } from '../registry.js';
import type { RetryPolicy } from '../retry.js';
import type { IScheduleStore, ScheduleRecord } from '../schedule-store.js';
import { checkExpressionShape, CronSchedule, normalizeTimeZone, ONCE } from './cron.js';
import { ScheduleConflictError, ScheduleExistsError, ScheduleNotFoundError } from './errors.js';
import { scheduledJob, validateMisfire } from './firing.js';
import {
  checkKeys,
  checkName,
  PATCH_KEYS,
  scheduleArguments,
  type ScheduledCall,
  type ScheduleInfo,
  type ScheduleManagerOptions,
  type ScheduleOptions,
  type SchedulePatch,
} from './schedule-options.js';

/** Compare-and-set attempts before giving up; each lost attempt means another write landed in between. */
const CAS_ATTEMPTS = 20;

/**
 * The management API of recurring schedules: create, update, pause, resume, delete, list, get (with
 * coming fire times) and triggerNow. Everything is checked here, at the call, so that a schedule
 * that is stored is one a scheduler can fire: a bad expression, zone, policy, queue, argument, or an
 * unregistered target fails with an error naming the field.
 *
 * Every change is a read-modify-compare-and-set loop on the schedule's version, so it composes with
 * schedulers advancing the same schedule concurrently (their CAS or ours fails, and the loser
 * re-reads).
 */
export class ScheduleManager {
  private readonly store: IScheduleStore;
  private readonly writer: IJobWriter<never>;
  private readonly registry: JobRegistry;
  private readonly clock: Clock;

  constructor(options: ScheduleManagerOptions) {
    this.store = options.store;
    this.writer = options.writer;
    this.registry = options.registry ?? defaultRegistry;
    this.clock = options.clock ?? systemClock;
  }

  /** Typed form: `create('digest', EmailJob, (j) => j.sendDigest('ops'), { cron: '0 8 * * 1-5', timeZone: 'Europe/Berlin' })`. */
  create<T>(
    name: string,
    target: JobClass<T>,
    call: CallRecorder<T>,
    options: ScheduleOptions,
  ): Promise<ScheduleRecord>;
  /** Plain form: `create('digest', { target: 'email', method: 'sendDigest', args: ['ops'] }, { cron: '@daily' })`. */
  create(name: string, call: JobCall, options: ScheduleOptions): Promise<ScheduleRecord>;
  async create(
    name: string,
    a: JobClass | JobCall,
    b: CallRecorder<unknown> | ScheduleOptions,
    c?: ScheduleOptions,
  ): Promise<ScheduleRecord> {
    checkName(name);
    const { job, options } = scheduleArguments(a, b, c);
    const now = this.clock.now();
    const timing = this.timing(name, options.cron, options.timeZone, options.at, 'at' in options, now);
    const payload = this.payload(job, options);
    const record: ScheduleRecord = {
      name,
      ...timing,
      ...payload,
      misfire: validateMisfire(options.misfire),
      ...scheduleJobOptions(name, options),
      paused: options.paused ?? false,
      lastFireAt: null,
      version: 1,
      createdAt: now,
      updatedAt: now,
    };
    if (!(await this.store.insertSchedule(record))) throw new ScheduleExistsError(name);
    return record;
  }

  /**
   * Idempotent create-or-replace, for code that declares its schedules at every start (BullMQ's
   * `upsertJobScheduler` convention). Absent: created as `create` would. Present: the stored schedule
   * takes this definition (payload, queue, retry, metadata, misfire). nextFireAt and lastFireAt are
   * kept when expression, zone and `at` are unchanged (a restart neither skips nor repeats a firing)
   * and recomputed from now when they differ. The paused state is kept unless `paused` is given;
   * `paused: false` on a paused schedule resumes it as `resume` does. An identical definition writes
   * nothing.
   */
  upsert<T>(
    name: string,
    target: JobClass<T>,
    call: CallRecorder<T>,
    options: ScheduleOptions,
  ): Promise<ScheduleRecord>;
  upsert(name: string, call: JobCall, options: ScheduleOptions): Promise<ScheduleRecord>;
  async upsert(
    name: string,
    a: JobClass | JobCall,
    b: CallRecorder<unknown> | ScheduleOptions,
    c?: ScheduleOptions,
  ): Promise<ScheduleRecord> {
    const { job, options } = scheduleArguments(a, b, c);
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const current = await this.store.getSchedule(name);
      if (current === null) {
        try {
          return await this.create(name, job as JobCall, options);
        } catch (err) {
          if (err instanceof ScheduleExistsError) continue; // created in between: replace it
          throw err;
        }
      }
      const now = this.clock.now();
      const timing = this.timing(name, options.cron, options.timeZone, options.at, 'at' in options, now);
      const payload = this.payload(job, options);
      const sameTiming =
        timing.cron === current.cron &&
        timing.timeZone === current.timeZone &&
        (timing.cron !== ONCE ||
          // a one-off is the same when its `at` is the pending time or the time it already fired at
          timing.nextFireAt?.getTime() === current.nextFireAt?.getTime() ||
          timing.nextFireAt?.getTime() === current.lastFireAt?.getTime());
      const paused = options.paused ?? current.paused;
      const next: ScheduleRecord = {
        ...current,
        ...payload,
        misfire: validateMisfire(options.misfire),
        ...scheduleJobOptions(name, options),
        paused,
        cron: timing.cron,
        timeZone: timing.timeZone,
        nextFireAt: sameTiming ? current.nextFireAt : timing.nextFireAt,
        lastFireAt: sameTiming ? current.lastFireAt : null,
        updatedAt: now,
      };
      if (current.paused && !paused && timing.cron !== ONCE) {
        next.nextFireAt = CronSchedule.of(timing.cron, timing.timeZone, name).nextAfter(now);
      }
      if (sameDefinition(current, next)) return current;
      if (await this.store.updateSchedule(next, current.version)) return { ...next, version: current.version + 1 };
    }
    throw new ScheduleConflictError(name, CAS_ATTEMPTS);
  }

  /**
   * Changes expression, zone, `at`, payload, queue, retry, metadata or misfire policy. A change to the
   * timing recomputes nextFireAt from now (missed times of the old timing are not fired); other
   * changes leave it as it is. Jobs already made are not touched.
   */
  async update<T>(name: string, patch: SchedulePatch<T>): Promise<ScheduleRecord> {
    if (patch === null || typeof patch !== 'object') throw new InvalidOptionError('patch', 'must be an object');
    checkKeys(patch, PATCH_KEYS);
    return this.mutate(name, (current, now) => {
      const next: ScheduleRecord = { ...current, updatedAt: now };
      if ('cron' in patch || 'timeZone' in patch || 'at' in patch) {
        const cron = patch.cron ?? current.cron;
        const timeZone = patch.timeZone ?? current.timeZone;
        if (cron === ONCE && current.cron === ONCE && !('at' in patch)) {
          // A one-off is an instant, not a wall-clock time: a new zone leaves its time (and whether
          // it has fired) as it is.
          next.timeZone = normalizeTimeZone(timeZone);
        } else {
          Object.assign(next, this.timing(name, cron, timeZone, patch.at, 'at' in patch, now));
        }
      }
      if ('job' in patch || 'queue' in patch || 'retry' in patch || 'metadata' in patch) {
        // Without a new payload, the stored target and method are re-checked with empty arguments:
        // only queue, retry and metadata are taken from the result.
        const job = (patch.job as ScheduledCall | undefined) ?? {
          target: current.target,
          method: current.method,
          args: [],
        };
        const payload = this.payload(job, {
          queue: patch.queue ?? current.queue,
          retry: patch.retry ?? current.retry,
          metadata: patch.metadata ?? current.metadata,
        });
        next.queue = payload.queue;
        next.retry = payload.retry;
        next.metadata = payload.metadata;
        if (patch.job !== undefined) {
          next.target = payload.target;
          next.method = payload.method;
          next.args = payload.args;
        }
      }
      if ('misfire' in patch) next.misfire = validateMisfire(patch.misfire);
      if (SCHEDULE_JOB_OPTIONS.some((k) => k in patch)) {
        const merged = { ...optionsOfRecord(current), ...patch };
        Object.assign(next, scheduleJobOptions(current.name, merged));
      }
      return next;
    });
  }

  /** Stops firing until `resume`; times passing meanwhile are not fired later. Idempotent. */
  async pause(name: string): Promise<ScheduleRecord> {
    return this.mutate(name, (current, now) => (current.paused ? null : { ...current, paused: true, updatedAt: now }));
  }

  /**
   * Fires again from now: a recurring schedule's next time is recomputed after now (what passed while
   * paused is not caught up); a one-off keeps its `at` and fires at once if that has passed. Idempotent.
   */
  async resume(name: string): Promise<ScheduleRecord> {
    return this.mutate(name, (current, now) => {
      if (!current.paused) return null;
      const nextFireAt =
        current.cron === ONCE
          ? current.nextFireAt
          : CronSchedule.of(current.cron, current.timeZone, current.name).nextAfter(now);
      return { ...current, paused: false, nextFireAt, updatedAt: now };
    });
  }

  /** True if it existed. Jobs it already made stay. */
  async delete(name: string): Promise<boolean> {
    return this.store.deleteSchedule(name);
  }

  /** Every schedule, by name. */
  async list(): Promise<ScheduleRecord[]> {
    return this.store.listSchedules();
  }

  /** The schedule and its next `upcoming` (default 5) fire times, or null. */
  async get(name: string, options: { upcoming?: number } = {}): Promise<ScheduleInfo | null> {
    const count = options.upcoming ?? 5;
    if (!Number.isInteger(count) || count < 0 || count > 1000) {
      throw new InvalidOptionError('upcoming', `must be an integer from 0 to 1000, got ${String(count)}`);
    }
    const record = await this.store.getSchedule(name);
    if (record === null) return null;
    return { ...record, upcoming: upcoming(record, count) };
  }

  /**
   * Makes one job now, outside the cron sequence: its unique key is `schedule:<name>:manual:<job id>`,
   * so it never collides with a firing, and nextFireAt is not touched. Answers the job id.
   */
  async triggerNow(name: string): Promise<string> {
    const record = await this.store.getSchedule(name);
    if (record === null) throw new ScheduleNotFoundError(name);
    const job = scheduledJob(record, null);
    const [id] = await this.writer.insertJobs([job]);
    return id;
  }

  /** Read, change, compare-and-set; re-read and retry when another writer got in between. */
  private async mutate(
    name: string,
    change: (current: ScheduleRecord, now: Date) => ScheduleRecord | null,
  ): Promise<ScheduleRecord> {
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const current = await this.store.getSchedule(name);
      if (current === null) throw new ScheduleNotFoundError(name);
      const next = change(current, this.clock.now());
      if (next === null) return current;
      if (await this.store.updateSchedule(next, current.version)) return { ...next, version: current.version + 1 };
    }
    throw new ScheduleConflictError(name, CAS_ATTEMPTS);
  }

  /** Checks expression, zone and `at` together; answers the stored timing fields. */
  private timing(
    name: string,
    cron: unknown,
    timeZone: unknown,
    at: Date | undefined,
    atGiven: boolean,
    now: Date,
  ): Pick<ScheduleRecord, 'cron' | 'timeZone' | 'nextFireAt'> {
    const expression = checkExpressionShape(cron);
    const zone = normalizeTimeZone(timeZone);
    if (expression === ONCE) {
      if (!(at instanceof Date) || Number.isNaN(at.getTime())) {
        throw new InvalidOptionError('at', '"@once" needs at: a valid Date (the time to fire)');
      }
      return { cron: ONCE, timeZone: zone, nextFireAt: new Date(at.getTime()) };
    }
    if (atGiven)
      throw new InvalidOptionError('at', 'is only for "@once"; a recurring schedule fires by its cron expression');
    const schedule = CronSchedule.of(expression, zone, name);
    return { cron: expression, timeZone: zone, nextFireAt: schedule.nextAfter(now) };
  }

  /** Validates the payload exactly as the adder does, and also that this registry can run it. */
  private payload(
    job: ScheduledCall,
    options: { queue?: string; retry?: RetryPolicy; metadata?: JobMetadata },
  ): Pick<ScheduleRecord, 'target' | 'method' | 'args' | 'queue' | 'retry' | 'metadata'> {
    if (job === null || typeof job !== 'object') {
      throw new InvalidOptionError('job', 'must be a class and a call, or { target, method, args }');
    }
    // Only the payload's own options: the flow options (priority, keys) are checked apart, with the
    // schedule's defaults (scheduleJobOptions).
    const own = { queue: options.queue, retry: options.retry, metadata: options.metadata };
    const spec =
      typeof job.target === 'function'
        ? { target: job.target, call: (job as { call: CallRecorder<unknown> }).call, options: own }
        : { call: job as JobCall, options: own };
    const prepared = prepareJob(spec, this.registry, this.clock);
    // prepareJob accepts any plain target name (untyped producers may enqueue for other services);
    // a schedule is refused unless this registry can run it, so a typo fails now, not at 3 a.m.
    this.registry.resolveMethod(prepared.target, prepared.method);
    return {
      target: prepared.target,
      method: prepared.method,
      args: prepared.args,
      queue: prepared.queue,
      retry: prepared.retry,
      metadata: prepared.metadata,
    };
  }
}

/** True when an upsert would change nothing a scheduler or a reader can see (updatedAt aside). */
function sameDefinition(a: ScheduleRecord, b: ScheduleRecord): boolean {
  const { updatedAt: _a, ...restA } = a;
  const { updatedAt: _b, ...restB } = b;
  return JSON.stringify(restA) === JSON.stringify(restB);
}

/** The coming fire times of a stored schedule. */
function upcoming(record: ScheduleRecord, count: number): Date[] {
  if (count === 0 || record.paused || record.nextFireAt === null) return [];
  if (record.cron === ONCE) return [record.nextFireAt];
  const cron = CronSchedule.of(record.cron, record.timeZone, record.name);
  return [record.nextFireAt, ...cron.after(record.nextFireAt, count - 1)];
}
