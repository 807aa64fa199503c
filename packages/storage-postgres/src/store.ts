import {
  InvalidOptionError,
  leaseExpiredError,
  systemClock,
  type ClaimedJob,
  type ClaimRequest,
  type Clock,
  type FinalJobStatus,
  type IJobQueueAdmin,
  type IJobQueueManager,
  type IJobWriter,
  type IScheduleStore,
  type JobCount,
  type JobFilter,
  type JobLease,
  type JobOutcome,
  type JobProgress,
  type JobRecord,
  type JobRegistry,
  type JobStatus,
  type LeaseCheck,
  type NewJob,
  type PurgeFilter,
  type ScheduleRecord,
} from '@oddjob/core';
import { randomUUID } from 'node:crypto';
import type { ClientBase, ClientConfig, Pool, PoolConfig } from 'pg';
import pg from 'pg';
import { PostgresJobQueueAdder } from './adder.js';
import { Database } from './db.js';
import { insertParams } from './insert-params.js';
import { isUuid } from './uuid.js';
import { PostgresStoreError } from './errors.js';
import { JobsAvailableListener } from './listener.js';
import { checkSchemaVersion, migrate, type MigrationResult } from './migrate.js';
import {
  DEFAULT_SCHEMA,
  resolveRetention,
  resolveTransientRetry,
  validateSchemaName,
  type PostgresStoreOptions,
  type RetentionOptions,
} from './options.js';
import { errorJson, jsonText, scheduleParams, toClaimedJob, toJobRecord, toScheduleRecord, type JobRow, type ScheduleRow } from './rows.js';
import { buildStatements, channelName, type Statements } from './sql/index.js';
import type { ResolvedTransientRetry } from './transient.js';

const OUTCOME_KINDS: ReadonlySet<string> = new Set(['done', 'retry', 'failed', 'released']);
const FINAL: ReadonlySet<string> = new Set(['done', 'failed', 'cancelled']);

/** core's LeaseExpiredError, split around the owner so the claim statement can build it per row. */
const LEASE_EXPIRED = (() => {
  const mark = '\u0001owner\u0001';
  const e = leaseExpiredError(mark);
  const at = e.message.indexOf(mark);
  return { name: e.name, before: e.message.slice(0, at), after: e.message.slice(at + mark.length) };
})();

/**
 * Connection option for pools the store makes itself. Every statement is prepared once per
 * connection (see sql/context.ts), and PostgreSQL then plans it anew on every execution unless its
 * generic plan looks no dearer than a custom one. For the claim it never does: with the limit and
 * the queue list unknown, the estimates are ten times the real batch, so each claim was planned
 * again (~0.8 ms, a fifth of the claim's server time for 250 jobs). Every statement here is written
 * to use its index whatever the parameters (measured with force_generic_plan on 20,000 jobs), so the
 * generic plan is the right one. With a pool of your own, add `-c plan_cache_mode=force_generic_plan`
 * to its `options` for the same effect.
 */
const GENERIC_PLANS = '-c plan_cache_mode=force_generic_plan';

function isPool(value: unknown): value is Pool {
  if (value instanceof pg.Pool) return true;
  // A pool from another copy of pg fails instanceof; recognise it by shape.
  const v = value as Partial<Pool> | null;
  return typeof v === 'object' && v !== null && typeof v.connect === 'function' && typeof v.query === 'function' && 'totalCount' in v;
}

function orderByRunAtThenId(a: JobRecord, b: JobRecord): number {
  const d = a.runAt.getTime() - b.runAt.getTime();
  return d !== 0 ? d : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * OddJob's storage on PostgreSQL: the writer (enqueue), the executor's manager (claim, outcomes,
 * leases), the admin side and schedule storage, all on one pool. Open it with `PostgresJobStore.open`.
 *
 * Concurrency lives in the SQL (see src/sql/): claims use FOR UPDATE SKIP LOCKED, every write after a
 * claim is fenced by the lease token, unique keys are arbitrated by a unique index. Any number of
 * stores in any number of processes may share one schema.
 */
export class PostgresJobStore implements IJobWriter<ClientBase>, IJobQueueManager, IJobQueueAdmin, IScheduleStore {
  readonly schema: string;
  /** The clock adders use for `delayMs`: the injected one, or the system clock. */
  readonly clock: Clock;
  readonly pool: Pool;
  private readonly injectedClock: Clock | undefined;
  private readonly ownsPool: boolean;
  private readonly db: Database;
  private readonly sql: Statements;
  private readonly notify: boolean;
  private readonly deleteDoneJobs: boolean;
  private readonly listener: JobsAvailableListener;
  private readonly retention: RetentionOptions & { batchSize: number };
  private readonly transientRetry: ResolvedTransientRetry;
  private readonly onBackgroundError: (err: Error) => void;
  private retentionTimer: NodeJS.Timeout | undefined;
  private retentionRunning = false;
  private closed = false;

  /**
   * Opens a store: makes (or adopts) the pool, applies pending migrations under the advisory lock
   * (or, with `migrate: false`, checks the schema version) and starts the retention timer if asked.
   */
  static async open(options: PostgresStoreOptions): Promise<PostgresJobStore> {
    const store = new PostgresJobStore(options);
    try {
      if (options.migrate === false) await checkSchemaVersion(store.pool, store.schema, store.transientRetry);
      else await migrate(store.pool, store.schema, store.transientRetry);
    } catch (err) {
      await store.close();
      throw err;
    }
    store.startRetentionTimer();
    return store;
  }

  private constructor(options: PostgresStoreOptions) {
    if (options === null || typeof options !== 'object') throw new InvalidOptionError('options', 'must be an object');
    this.schema = validateSchemaName(options.schema ?? DEFAULT_SCHEMA);
    this.injectedClock = options.clock;
    this.clock = options.clock ?? systemClock;
    this.retention = resolveRetention(options.retention);
    this.transientRetry = resolveTransientRetry(options.transientRetry);
    this.notify = options.notify ?? true;
    this.deleteDoneJobs = options.deleteDoneJobs ?? false;
    if (typeof this.deleteDoneJobs !== 'boolean') throw new InvalidOptionError('deleteDoneJobs', 'must be a boolean');
    this.onBackgroundError = options.onBackgroundError ?? ((err) => console.warn(`[oddjob/postgres] ${err.message}`));

    const { connection } = options;
    let listenConfig: ClientConfig;
    if (isPool(connection)) {
      this.pool = connection;
      this.ownsPool = false;
      // pg-pool keeps its config (password included, non-enumerable) on `options`: pass it as is.
      listenConfig = (connection as Pool & { options: PoolConfig }).options;
    } else if (typeof connection === 'string' || (typeof connection === 'object' && connection !== null)) {
      const given: PoolConfig = typeof connection === 'string' ? { connectionString: connection } : connection;
      const config: PoolConfig = { ...given, options: [given.options, GENERIC_PLANS].filter(Boolean).join(' ') };
      this.pool = new pg.Pool(config);
      this.ownsPool = true;
      listenConfig = config;
    } else {
      throw new InvalidOptionError('connection', 'must be a connection string, a pg PoolConfig or a pg.Pool');
    }
    // pg emits 'error' on the pool when an idle connection dies (server restart, terminated backend);
    // unhandled, that event would crash the process. The next query simply gets a fresh connection.
    if (this.pool.listenerCount('error') === 0) {
      this.pool.on('error', (err) => this.onBackgroundError(new Error(`idle connection lost: ${err.message}`, { cause: err })));
    }
    this.db = new Database(this.pool, this.schema, this.transientRetry);
    this.sql = buildStatements(this.schema);
    this.listener = new JobsAvailableListener(listenConfig, channelName(this.schema), this.onBackgroundError);
  }

  /** An adder writing to this store; pass `{ tx: client }` to enqueue inside your transaction. */
  adder(options: { registry?: JobRegistry } = {}): PostgresJobQueueAdder {
    return new PostgresJobQueueAdder(this, options);
  }

  /** Applies pending migrations now (the store does this on open unless `migrate: false`). */
  migrate(): Promise<MigrationResult> {
    return migrate(this.pool, this.schema, this.transientRetry);
  }

  // ---- writer ----

  insertJobs(jobs: readonly NewJob[], tx?: ClientBase): Promise<string[]> {
    return this.insert(jobs, tx, 1);
  }

  private async insert(jobs: readonly NewJob[], tx: ClientBase | undefined, round: number): Promise<string[]> {
    if (!Array.isArray(jobs)) throw new InvalidOptionError('jobs', 'must be an array');
    if (jobs.length === 0) return [];
    const params = insertParams(jobs);
    const run = (operation: string, stmt: keyof Statements, values: readonly unknown[]) =>
      tx ? this.db.runOn(tx, operation, this.sql[stmt], values) : this.db.run(operation, this.sql[stmt], values);

    const [answer] = (await run('insert jobs', 'insertJobs', [
      this.now(),
      params.shapes,
      params.ids,
      params.args,
      params.shapeOfJob,
      params.runAt,
      params.uniqueKeys,
      jobs.length,
      this.notify,
    ])) as { inserted: number; rows: string | null }[];
    if (answer!.rows === null) return jobs.map((j) => j.id);
    const inserted = (JSON.parse(answer!.rows) as [string, string | null][]).map(([id, unique_key]) => ({ id, unique_key }));
    const answered = new Map<string, string>(); // job id -> id to answer
    const keyHolders = new Map<string, string>();
    for (const row of inserted) {
      answered.set(row.id, row.id);
      if (row.unique_key !== null) keyHolders.set(row.unique_key, row.id);
    }
    // Jobs the insert refused: a later job of the batch sharing a key with an inserted one answers
    // that one's id; the rest (key held by a stored job, or id stored by an earlier try) are looked up.
    const refused = jobs.filter((j) => !answered.has(j.id) && !(j.uniqueKey !== null && keyHolders.has(j.uniqueKey)));
    if (refused.length > 0) {
      const rows = (await run('look up unique-key holders', 'lookupHolders', [
        refused.map((j) => j.id),
        refused.flatMap((j) => (j.uniqueKey === null ? [] : [j.uniqueKey])),
      ])) as { id: string; unique_key: string | null }[];
      const stored = new Set(rows.map((r) => r.id));
      for (const r of rows) if (r.unique_key !== null) keyHolders.set(r.unique_key, r.id);
      const lost = refused.filter((j) => !stored.has(j.id) && !(j.uniqueKey !== null && keyHolders.has(j.uniqueKey)));
      if (lost.length > 0) {
        // The holder was purged between the two statements: its key is free again, so add these
        // jobs after all. Each round needs a purge to race the enqueue again; a few are plenty.
        if (round >= 5) {
          const keys = lost.map((j) => j.uniqueKey).join(', ');
          throw new PostgresStoreError('insert jobs', undefined, `unique keys ${keys} kept changing hands (purged while enqueued); enqueue again`, undefined);
        }
        const again = await this.insert(lost, tx, round + 1);
        lost.forEach((j, i) => answered.set(j.id, again[i]!));
      }
      for (const j of refused) if (stored.has(j.id)) answered.set(j.id, j.id);
    }
    return jobs.map((j) => answered.get(j.id) ?? keyHolders.get(j.uniqueKey!)!);
  }

  // ---- manager ----

  onJobsAvailable(listener: (queue: string) => void): () => void {
    if (typeof listener !== 'function') throw new InvalidOptionError('listener', 'must be a function');
    if (!this.notify || this.closed) return () => undefined;
    return this.listener.subscribe(listener);
  }

  /**
   * Resolves once the LISTEN connection is up (it opens with the first onJobsAvailable subscription),
   * or when the store closes. Rejects at once if the store was opened with `notify: false`.
   */
  whenListening(): Promise<void> {
    if (!this.notify) return Promise.reject(new InvalidOptionError('notify', 'is false, so this store never listens'));
    if (this.closed) return Promise.resolve();
    return this.listener.whenListening();
  }

  async getJobs(request: ClaimRequest): Promise<ClaimedJob[]> {
    if (request === null || typeof request !== 'object') throw new InvalidOptionError('request', 'must be an object');
    const { queues, limit, owner, leaseMs } = request;
    if (!Number.isInteger(limit) || limit < 1) throw new InvalidOptionError('limit', `must be an integer >= 1, got ${String(limit)}`);
    if (!Array.isArray(queues) || queues.some((q) => typeof q !== 'string')) {
      throw new InvalidOptionError('queues', 'must be an array of queue names');
    }
    if (typeof owner !== 'string' || owner.length === 0) throw new InvalidOptionError('owner', 'must be a non-empty string');
    if (typeof leaseMs !== 'number' || !Number.isFinite(leaseMs) || leaseMs < 0) {
      throw new InvalidOptionError('leaseMs', `must be a finite number >= 0, got ${String(leaseMs)}`);
    }
    if (queues.length === 0) return [];
    const wanted = [...new Set(queues)];
    const claimed: ClaimedJob[] = [];
    // A claim that met spent jobs (lease expired, no attempt left) failed them and came back short
    // by as many: ask again for the rest, so a short answer still means the queues ran dry. Each
    // round fails such jobs for good, so this ends.
    for (;;) {
      const token = randomUUID();
      const rows = await this.db.runText('claim jobs', this.sql.claim, [
        this.now(),
        wanted,
        limit - claimed.length,
        owner,
        leaseMs,
        LEASE_EXPIRED.before,
        LEASE_EXPIRED.after,
        LEASE_EXPIRED.name,
        token,
      ]);
      let reaped = 0;
      for (const row of rows) {
        if (row[1] === null) reaped++;
        else claimed.push(toClaimedJob(row, owner, token));
      }
      if (reaped === 0 || claimed.length === limit) break;
    }
    return claimed.sort(orderByRunAtThenId);
  }

  async recordOutcomes(outcomes: readonly JobOutcome[]): Promise<LeaseCheck[]> {
    if (!Array.isArray(outcomes)) throw new InvalidOptionError('outcomes', 'must be an array');
    outcomes.forEach((o, i) => {
      if (o === null || typeof o !== 'object' || !OUTCOME_KINDS.has(o.kind)) {
        throw new InvalidOptionError(`outcomes[${i}].kind`, `must be one of done, retry, failed, released`);
      }
      if (o.kind === 'retry' && (!(o.runAt instanceof Date) || Number.isNaN(o.runAt.getTime()))) {
        throw new InvalidOptionError(`outcomes[${i}].runAt`, 'must be a valid Date');
      }
    });
    const results: LeaseCheck[] = outcomes.map(() => 'lease-lost');
    // Leases this store never issued (not UUID-shaped) cannot match: they stay lease-lost unsent.
    let pending: number[] = [];
    outcomes.forEach((o, i) => {
      if (o.lease && isUuid(o.lease.jobId) && isUuid(o.lease.token)) {
        pending.push(i);
      }
    });
    const released = new Set<string>();
    // One statement applies one outcome per job; a job named twice goes to a second round, which
    // then sees the first round's write (as the memory store would, applying them in order).
    while (pending.length > 0) {
      const seen = new Set<string>();
      const round: number[] = [];
      const later: number[] = [];
      for (const i of pending) {
        const id = outcomes[i]!.lease.jobId;
        if (seen.has(id)) later.push(i);
        else {
          seen.add(id);
          round.push(i);
        }
      }
      pending = later;
      const allDone = round.every((i) => outcomes[i]!.kind === 'done');
      const applied = allDone ? await this.recordDone(outcomes, round) : await this.recordMixed(outcomes, round, released);
      for (const i of round) if (applied.has(outcomes[i]!.lease.jobId)) results[i] = 'ok';
    }
    if (released.size > 0 && this.notify) {
      // Jobs given back at shutdown are claimable now: wake other executors. A hint only, so a
      // failure here is reported, not thrown (the outcomes are already stored).
      await this.db.run('notify released', this.sql.notifyQueues, [[...released]]).catch((err: Error) => this.onBackgroundError(err));
    }
    return results;
  }

  /** A round of only `done` outcomes: the lean statement (sql/record-done.ts). Returns the applied ids. */
  private async recordDone(outcomes: readonly JobOutcome[], round: readonly number[]): Promise<Set<string>> {
    const ids = round.map((i) => outcomes[i]!.lease.jobId).join(',');
    const tokens = round.map((i) => outcomes[i]!.lease.token).join(',');
    const rows = await this.db.run<{ ids: string | null }>('record job outcomes', this.sql.recordDone, (retrying) => [
      this.now(),
      ids,
      tokens,
      retrying,
      this.deleteDoneJobs,
    ]);
    const applied = rows[0]?.ids;
    return new Set(applied ? applied.split(',') : []);
  }

  /** A round with any kind of outcome (sql/record-outcomes.ts). Returns the applied ids. */
  private async recordMixed(outcomes: readonly JobOutcome[], round: readonly number[], released: Set<string>): Promise<Set<string>> {
    const os = round.map((i) => outcomes[i]!);
    const arrays = [
      os.map((o) => o.lease.jobId),
      os.map((o) => o.lease.token),
      os.map((o) => o.kind),
      os.map((o) => (o.kind === 'retry' || o.kind === 'failed' ? errorJson(o.error) : null)),
      os.map((o) => (o.kind === 'retry' ? o.runAt : null)),
    ];
    const rows = await this.db.run<{ id: string; queue: string; kind: string }>(
      'record job outcomes',
      this.sql.recordOutcomes,
      (retrying) => [this.now(), ...arrays, retrying, this.deleteDoneJobs],
    );
    for (const r of rows) if (r.kind === 'released') released.add(r.queue);
    return new Set(rows.map((r) => r.id));
  }

  async extendLeases(leases: readonly JobLease[], leaseMs: number): Promise<LeaseCheck[]> {
    if (!Array.isArray(leases)) throw new InvalidOptionError('leases', 'must be an array');
    if (typeof leaseMs !== 'number' || !Number.isFinite(leaseMs) || leaseMs < 0) {
      throw new InvalidOptionError('leaseMs', `must be a finite number >= 0, got ${String(leaseMs)}`);
    }
    const valid = leases.filter((l) => l && isUuid(l.jobId) && typeof l.token === 'string');
    if (valid.length === 0) return leases.map(() => 'lease-lost');
    const rows = await this.db.run<{ id: string; token: string }>('extend leases', this.sql.extendLeases, [
      this.now(),
      valid.map((l) => l.jobId),
      valid.map((l) => l.token),
      leaseMs,
    ]);
    const held = new Set(rows.map((r) => `${r.id}/${r.token}`));
    return leases.map((l) => (l && held.has(`${l.jobId}/${l.token}`) ? 'ok' : 'lease-lost'));
  }

  async reportProgress(lease: JobLease, progress: JobProgress): Promise<LeaseCheck> {
    const isNumber = typeof progress === 'number' && Number.isFinite(progress);
    const isObject = typeof progress === 'object' && progress !== null && !Array.isArray(progress);
    if (!isNumber && !isObject) throw new InvalidOptionError('progress', 'must be a finite number or a plain object');
    const json = jsonText(progress, 'progress');
    if (!lease || !isUuid(lease.jobId) || typeof lease.token !== 'string') return 'lease-lost';
    const rows = await this.db.run('report progress', this.sql.reportProgress, [this.now(), lease.jobId, lease.token, json]);
    return rows.length === 1 ? 'ok' : 'lease-lost';
  }

  // ---- admin ----

  async getJob(id: string): Promise<JobRecord | null> {
    if (!isUuid(id)) return null;
    const rows = await this.db.run<JobRow>('get job', this.sql.getJob, [id]);
    return rows.length === 0 ? null : toJobRecord(rows[0]!);
  }

  async listJobs(filter: JobFilter = {}): Promise<JobRecord[]> {
    const limit = filter.limit ?? 100;
    const offset = filter.offset ?? 0;
    if (!Number.isInteger(limit) || limit < 0) throw new InvalidOptionError('limit', `must be an integer >= 0, got ${String(limit)}`);
    if (!Number.isInteger(offset) || offset < 0) throw new InvalidOptionError('offset', `must be an integer >= 0, got ${String(offset)}`);
    const statuses = filter.status === undefined ? null : ([] as JobStatus[]).concat(filter.status);
    const rows = await this.db.run<JobRow>('list jobs', this.sql.listJobs, [
      statuses,
      filter.queue ?? null,
      filter.target ?? null,
      limit,
      offset,
    ]);
    return rows.map(toJobRecord);
  }

  async countJobs(filter: { queue?: string } = {}): Promise<JobCount[]> {
    return this.db.run<JobCount>('count jobs', this.sql.countJobs, [filter.queue ?? null]);
  }

  async cancelJob(id: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    const rows = await this.db.run('cancel job', this.sql.cancelJob, [this.now(), id]);
    return rows.length === 1;
  }

  async requeueJob(id: string, options: { runAt?: Date } = {}): Promise<boolean> {
    if (options.runAt !== undefined && (!(options.runAt instanceof Date) || Number.isNaN(options.runAt.getTime()))) {
      throw new InvalidOptionError('runAt', 'must be a valid Date');
    }
    if (!isUuid(id)) return false;
    const rows = await this.db.run('requeue job', this.sql.requeueJob, [this.now(), id, options.runAt ?? null, this.notify]);
    return rows.length === 1;
  }

  async purgeJobs(filter: PurgeFilter): Promise<number> {
    if (filter === null || typeof filter !== 'object' || !Array.isArray(filter.statuses)) {
      throw new InvalidOptionError('statuses', 'must be an array of final statuses (done, failed, cancelled)');
    }
    if (filter.finishedBefore !== undefined && (!(filter.finishedBefore instanceof Date) || Number.isNaN(filter.finishedBefore.getTime()))) {
      throw new InvalidOptionError('finishedBefore', 'must be a valid Date');
    }
    const statuses = filter.statuses.filter((s) => FINAL.has(s));
    if (statuses.length === 0) return 0;
    const rows = await this.db.run<{ n: number }>('purge jobs', this.sql.purgeJobs, [
      statuses,
      filter.queue ?? null,
      filter.finishedBefore ?? null,
    ]);
    return rows[0]!.n;
  }

  /**
   * Retention: deletes final jobs older than the configured `retention` times, in batches. Runs on
   * the retention timer when `retention.intervalMs` is set; call it yourself otherwise. Returns how
   * many jobs of each status were deleted.
   */
  async purgeExpired(): Promise<Record<FinalJobStatus, number>> {
    const deleted: Record<FinalJobStatus, number> = { done: 0, failed: 0, cancelled: 0 };
    const keep: [FinalJobStatus, number | undefined][] = [
      ['done', this.retention.doneMs],
      ['failed', this.retention.failedMs],
      ['cancelled', this.retention.cancelledMs],
    ];
    for (const [status, ms] of keep) {
      if (ms === undefined) continue;
      for (;;) {
        const rows = await this.db.run<{ n: number }>('purge expired jobs', this.sql.purgeExpired, [
          this.now(),
          status,
          ms,
          this.retention.batchSize,
        ]);
        deleted[status] += rows[0]!.n;
        if (rows[0]!.n < this.retention.batchSize || this.closed) break;
      }
    }
    return deleted;
  }

  // ---- schedules ----

  async insertSchedule(schedule: ScheduleRecord): Promise<boolean> {
    const rows = await this.db.run('insert schedule', this.sql.insertSchedule, [
      ...scheduleParams(schedule),
      schedule.version,
      schedule.createdAt,
      schedule.updatedAt,
    ]);
    return rows.length === 1;
  }

  async getSchedule(name: string): Promise<ScheduleRecord | null> {
    const rows = await this.db.run<ScheduleRow>('get schedule', this.sql.getSchedule, [name]);
    return rows.length === 0 ? null : toScheduleRecord(rows[0]!);
  }

  async listSchedules(): Promise<ScheduleRecord[]> {
    const rows = await this.db.run<ScheduleRow>('list schedules', this.sql.listSchedules, []);
    return rows.map(toScheduleRecord);
  }

  async updateSchedule(schedule: ScheduleRecord, expectedVersion: number): Promise<boolean> {
    if (!Number.isInteger(expectedVersion)) throw new InvalidOptionError('expectedVersion', 'must be an integer');
    const rows = await this.db.run('update schedule', this.sql.updateSchedule, [
      ...scheduleParams(schedule),
      expectedVersion,
      schedule.updatedAt,
      schedule.createdAt,
    ]);
    return rows.length === 1;
  }

  async deleteSchedule(name: string): Promise<boolean> {
    const rows = await this.db.run('delete schedule', this.sql.deleteSchedule, [name]);
    return rows.length === 1;
  }

  async listDueSchedules(now: Date, limit: number): Promise<ScheduleRecord[]> {
    if (!(now instanceof Date) || Number.isNaN(now.getTime())) throw new InvalidOptionError('now', 'must be a valid Date');
    if (!Number.isInteger(limit) || limit < 0) throw new InvalidOptionError('limit', `must be an integer >= 0, got ${String(limit)}`);
    const rows = await this.db.run<ScheduleRow>('list due schedules', this.sql.listDueSchedules, [now, limit]);
    return rows.map(toScheduleRecord);
  }

  // ---- lifecycle ----

  /**
   * Stops the retention timer and the LISTEN connection, fails waiting infrastructure retries, and
   * ends the pool if the store made it (a pool you passed in stays yours to end).
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    this.db.close();
    await this.listener.close();
    if (this.ownsPool) await this.pool.end();
  }

  /** "now" for a statement's $1: the injected clock's time, or NULL for the database's now(). */
  private now(): Date | null {
    return this.injectedClock ? this.injectedClock.now() : null;
  }

  private startRetentionTimer(): void {
    const every = this.retention.intervalMs;
    if (every === undefined) return;
    this.retentionTimer = setInterval(() => {
      if (this.retentionRunning) return; // a slow purge is never run twice at once
      this.retentionRunning = true;
      this.purgeExpired()
        .catch((err: Error) => this.onBackgroundError(new Error(`retention purge failed: ${err.message}`, { cause: err })))
        .finally(() => (this.retentionRunning = false));
    }, every);
    // Retention alone must not keep a process alive.
    this.retentionTimer.unref();
  }
}
