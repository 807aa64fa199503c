import sql from 'mssql';
import {
  attemptedRunAt,
  checkAttemptedJobs,
  InvalidOptionError,
  JobQueueAdder,
  retryWhileHolderVanishes,
  type Clock,
  type AttemptedJob,
  type IAttemptedJobWriter,
  type IJobWriter,
  type JobRegistry,
  type KeyedInsertTry,
  type NewJob,
} from '@oddjob/core';
import { chunk, type SqlServerContext } from './context.js';
import { jobToRow, PLAIN_PLACEMENT, type Placement } from './row-mapping.js';
import { keyIdentity } from './unique-key.js';
import { writeFlowBatch } from './flow-writer.js';
import {
  ATTEMPTED_LOG_PARAMS_PER_LINE,
  ATTEMPTED_PARAMS_PER_ROW,
  attemptedLogs,
  insertJobs,
  INSERT_PARAMS_PER_JOB,
  MAX_PARAMS,
  recordAttempted,
  type AttemptedLogLine,
} from './statements.js';
import { isDuplicateKeyError } from './transient.js';

/** Jobs per INSERT statement: 10 parameters each, under the 2100-per-request limit. */
export const JOBS_PER_STATEMENT = Math.floor(MAX_PARAMS / INSERT_PARAMS_PER_JOB);

/** How often a chunk is tried again after losing a unique-key race (2627/2601) or its key's holder vanished. */
const KEY_RACE_TRIES = 5;

export { keyIdentity } from './unique-key.js';

/**
 * Writes jobs. Pass an mssql Transaction as `tx` and the jobs are written on it, so they exist only if
 * the caller commits; without one, a batch that needs several statements runs in a transaction of
 * our own, so a batch is all or nothing either way.
 */
export class SqlServerJobWriter implements IJobWriter<sql.Transaction>, IAttemptedJobWriter {
  constructor(private readonly ctx: SqlServerContext) {}

  /**
   * Jobs whose attempt 1 already ran: one transaction of our own per call. insertJobs writes them
   * (due at their final run time; unique keys resolved as always), recordAttempted gives the rows
   * that went in attempt 1's state and run, attemptedLogs its log lines. Nobody sees a `new` row in
   * between, and a transient failure runs the whole transaction again.
   */
  async insertAttempted(entries: readonly AttemptedJob[]): Promise<string[]> {
    checkAttemptedJobs(entries);
    if (entries.length === 0) return [];
    const jobs = entries.map((e) => ({ ...e.job, runAt: attemptedRunAt(e) }));
    return this.ctx.runner.transaction(async (tx) => {
      const ids = await this.writeJobs(jobs, tx);
      const mine = entries.filter((e, i) => ids[i] === e.job.id);
      const applied = new Set<string>();
      for (const piece of chunk(mine, Math.floor(MAX_PARAMS / ATTEMPTED_PARAMS_PER_ROW))) {
        const rows = piece.map((e) => ({
          id: e.job.id,
          kind: e.outcome.kind,
          startedAt: e.startedAt,
          finishedAt: e.finishedAt,
          owner: e.owner,
          host: e.host ?? null,
          error: e.outcome.kind === 'done' ? null : JSON.stringify(e.outcome.error),
          runAt: attemptedRunAt(e),
          result: e.outcome.kind === 'done' ? (e.outcome.result ?? null) : null,
        }));
        const result = await this.ctx.runner.run<{ id: string }>(recordAttempted(this.ctx.names, rows), tx);
        for (const r of result.recordsets[result.recordsets.length - 1] ?? []) applied.add(r.id.toLowerCase());
      }
      const lines = mine
        .filter((e) => applied.has(e.job.id.toLowerCase()))
        .flatMap((e) => (e.logs ?? []).map((l) => ({ id: e.job.id, line: l })));
      // Each line binds three parameters and, at most, its job's id once: 500 lines stay under the limit.
      for (const piece of chunk(lines, Math.floor(MAX_PARAMS / (ATTEMPTED_LOG_PARAMS_PER_LINE + 1)))) {
        const jobIds = [...new Set(piece.map((p) => p.id))];
        const index = new Map(jobIds.map((id, i) => [id, i]));
        const rows: AttemptedLogLine[] = piece.map((p) => ({
          job: index.get(p.id)!,
          at: p.line.at,
          level: p.line.level,
          message: p.line.message,
        }));
        await this.ctx.runner.run(attemptedLogs(this.ctx.names, jobIds, rows), tx);
      }
      return ids;
    });
  }

  async insertJobs(jobs: readonly NewJob[], tx?: sql.Transaction): Promise<string[]> {
    if (jobs.length === 0) return [];
    if (tx !== undefined && !(tx instanceof sql.Transaction)) {
      throw new InvalidOptionError('tx', 'must be an mssql Transaction (new sql.Transaction(pool), begun)');
    }
    return this.writeJobs(jobs, tx);
  }

  /** insertJobs once its transaction is known to be one (insertAttempted's own, or the caller's). */
  private async writeJobs(jobs: readonly NewJob[], tx: sql.Transaction | undefined): Promise<string[]> {
    for (const job of jobs) {
      // core bounds queue, method and uniqueKey; target has no upper bound there but 200 characters here
      if (job.target.length > 200)
        throw new InvalidOptionError('target', `"${job.target.slice(0, 40)}..." is longer than 200 characters`);
    }
    // A key repeated inside the batch: the first job with it is written, later ones answer its id.
    const firstWithKey = new Map<string, NewJob>();
    const answerFrom: NewJob[] = [];
    const toWrite: NewJob[] = [];
    for (const job of jobs) {
      const key = job.uniqueKey === null ? null : keyIdentity(job.uniqueKey);
      const first = key === null ? undefined : firstWithKey.get(key);
      if (first) {
        answerFrom.push(first);
        continue;
      }
      if (key !== null) firstWithKey.set(key, job);
      answerFrom.push(job);
      toWrite.push(job);
    }
    if (toWrite.some((j) => j.after !== null || j.concurrency !== null)) {
      // Jobs that may wait: placed under the batch's locks, always in one transaction.
      const write = async (on: sql.Transaction) => {
        const answers = await writeFlowBatch(this.ctx, toWrite, on, (jobs, placements) =>
          this.insertRows(jobs, placements, on),
        );
        return answerFrom.map((job) => answers.get(job.id)!);
      };
      return tx ? write(tx) : this.ctx.runner.transaction(write);
    }
    const pieces = chunk(toWrite, JOBS_PER_STATEMENT);
    const answers = new Map<string, string>();
    const writeAll = async (on?: sql.Transaction) => {
      answers.clear(); // a retried transaction starts over
      for (const piece of pieces) for (const [id, answer] of await this.insertChunk(piece, on)) answers.set(id, answer);
    };
    if (tx) await writeAll(tx);
    else if (pieces.length === 1) await writeAll();
    else await this.ctx.runner.transaction((own) => writeAll(own));
    return answerFrom.map((job) => answers.get(job.id)!);
  }

  /** Writes placed jobs chunk by chunk (on the flow batch's transaction); answers per job id. */
  private async insertRows(
    jobs: readonly NewJob[],
    placements: ReadonlyMap<string, Placement>,
    tx: sql.Transaction,
  ): Promise<Map<string, string>> {
    const answers = new Map<string, string>();
    for (const piece of chunk(jobs, JOBS_PER_STATEMENT))
      for (const [id, answer] of await this.insertChunk(piece, tx, placements)) answers.set(id, answer);
    return answers;
  }

  /** Writes one chunk; answers, per job id, the id it resolves to (its own, or its key's holder). */
  private insertChunk(
    jobs: readonly NewJob[],
    tx?: sql.Transaction,
    placements?: ReadonlyMap<string, Placement>,
  ): Promise<Map<string, string>> {
    return retryWhileHolderVanishes(jobs, (pending, n) => this.insertOnce(pending, n, tx, placements), {
      tries: KEY_RACE_TRIES,
      provider: 'sqlserver',
      operation: 'insertJobs',
    });
  }

  /** One INSERT of `pending`; jobs whose key's holder vanished (or that lost a key race) are `lost`. */
  private async insertOnce(
    pending: readonly NewJob[],
    n: number,
    tx?: sql.Transaction,
    placements?: ReadonlyMap<string, Placement>,
  ): Promise<KeyedInsertTry<NewJob>> {
    let rows: { id: string; unique_key: string | null }[];
    try {
      const result = await this.ctx.runner.run<{ id: string; unique_key: string | null }>(
        insertJobs(
          this.ctx.names,
          pending.map((j) => jobToRow(j, placements?.get(j.id) ?? PLAIN_PLACEMENT)),
        ),
        tx,
      );
      rows = result.recordsets.length === 0 ? [] : result.recordsets[result.recordsets.length - 1];
    } catch (err) {
      // Another writer committed the same key between our check and our insert: run again, and
      // the check now sees the holder. (Inside a caller's transaction this is safe too: a
      // duplicate-key error ends the statement, not the transaction, unless XACT_ABORT is on —
      // and then mssql marks the Transaction aborted and the next request fails loudly.)
      if (isDuplicateKeyError(err) && n < KEY_RACE_TRIES) return { answers: new Map(), lost: pending };
      throw err;
    }
    const present = new Set(rows.map((r) => r.id));
    const holders = new Map(rows.filter((r) => r.unique_key !== null).map((r) => [keyIdentity(r.unique_key!), r.id]));
    const answers = new Map<string, string>();
    const lost: NewJob[] = [];
    for (const job of pending) {
      const holder = job.uniqueKey === null ? undefined : holders.get(keyIdentity(job.uniqueKey));
      if (present.has(job.id)) answers.set(job.id, job.id);
      else if (holder !== undefined) answers.set(job.id, holder);
      else lost.push(job); // its key's holder was purged between the two statements: the key is free now
    }
    return { answers, lost };
  }
}

/**
 * The adder for SQL Server: `addJob(..., { tx })` and `addJobs(..., { tx })` take an mssql
 * Transaction and enqueue inside it.
 */
export class SqlServerJobQueueAdder extends JobQueueAdder<sql.Transaction> {
  constructor(writer: IJobWriter<sql.Transaction>, options: { registry?: JobRegistry; clock?: Clock } = {}) {
    super(writer, options);
  }
}
