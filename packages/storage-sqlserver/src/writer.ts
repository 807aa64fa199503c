import sql from 'mssql';
import { InvalidOptionError, JobQueueAdder, type Clock, type IJobWriter, type JobRegistry, type NewJob } from '@oddjob/core';
import { chunk, type SqlServerContext } from './context.js';
import { jobToRow } from './row-mapping.js';
import { insertJobs, INSERT_PARAMS_PER_JOB, MAX_PARAMS } from './statements.js';
import { isDuplicateKeyError } from './transient.js';

/** Jobs per INSERT statement: 10 parameters each, under the 2100-per-request limit. */
export const JOBS_PER_STATEMENT = Math.floor(MAX_PARAMS / INSERT_PARAMS_PER_JOB);

/** How often a chunk is tried again after losing a unique-key race (2627/2601) or its key's holder vanished. */
const KEY_RACE_TRIES = 5;

/**
 * A unique key as SQL Server compares it: `=` and unique indexes ignore trailing spaces (ANSI padding,
 * in every collation, BIN2 included), so "k" and "k " are one key there. The writer must match keys
 * the same way, or a job whose key differs from its holder's only by trailing spaces finds no holder
 * in the answer and is retried until it fails, and two such keys in one batch make the INSERT hit the
 * unique index (2601) on every try.
 */
export function keyIdentity(key: string): string {
  return key.replace(/ +$/, '');
}

/**
 * Writes jobs. Pass an mssql Transaction as `tx` and the jobs are written on it, so they exist only if
 * the caller commits; without one, a batch that needs several statements runs in a transaction of
 * our own, so a batch is all or nothing either way.
 */
export class SqlServerJobWriter implements IJobWriter<sql.Transaction> {
  constructor(private readonly ctx: SqlServerContext) {}

  async insertJobs(jobs: readonly NewJob[], tx?: sql.Transaction): Promise<string[]> {
    if (jobs.length === 0) return [];
    if (tx !== undefined && !(tx instanceof sql.Transaction)) {
      throw new InvalidOptionError('tx', 'must be an mssql Transaction (new sql.Transaction(pool), begun)');
    }
    for (const job of jobs) {
      // core bounds queue, method and uniqueKey; target has no upper bound there but 200 characters here
      if (job.target.length > 200) throw new InvalidOptionError('target', `"${job.target.slice(0, 40)}..." is longer than 200 characters`);
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

  /** Writes one chunk; answers, per job id, the id it resolves to (its own, or its key's holder). */
  private async insertChunk(jobs: readonly NewJob[], tx?: sql.Transaction): Promise<Map<string, string>> {
    const answers = new Map<string, string>();
    let pending = jobs;
    for (let attempt = 1; ; attempt++) {
      let rows: { id: string; unique_key: string | null }[];
      try {
        const result = await this.ctx.runner.run<{ id: string; unique_key: string | null }>(insertJobs(this.ctx.names, pending.map(jobToRow)), tx);
        rows = result.recordsets.length === 0 ? [] : (result.recordsets[result.recordsets.length - 1] as typeof rows);
      } catch (err) {
        // Another writer committed the same key between our check and our insert: run again, and
        // the check now sees the holder. (Inside a caller's transaction this is safe too: a
        // duplicate-key error ends the statement, not the transaction, unless XACT_ABORT is on —
        // and then mssql marks the Transaction aborted and the next request fails loudly.)
        if (isDuplicateKeyError(err) && attempt < KEY_RACE_TRIES) continue;
        throw err;
      }
      const present = new Set(rows.map((r) => r.id));
      const holders = new Map(rows.filter((r) => r.unique_key !== null).map((r) => [keyIdentity(r.unique_key!), r.id]));
      const next: NewJob[] = [];
      for (const job of pending) {
        const holder = job.uniqueKey === null ? undefined : holders.get(keyIdentity(job.uniqueKey));
        if (present.has(job.id)) answers.set(job.id, job.id);
        else if (holder !== undefined) answers.set(job.id, holder);
        else next.push(job); // its key's holder was purged between the two statements: the key is free now
      }
      if (next.length === 0) return answers;
      if (attempt >= KEY_RACE_TRIES) {
        throw new Error(`could not write ${next.length} job(s) (first ${next[0]!.id}) after ${attempt} tries: their unique keys kept changing hands`);
      }
      pending = next;
    }
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
