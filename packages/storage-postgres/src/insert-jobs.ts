import { InvalidOptionError, isArray, retryWhileHolderVanishes, type KeyedInsertTry, type NewJob } from '@oddjob/core';
import type { ClientBase } from 'pg';
import type { PgOps } from './admin-ops.js';
import { insertParams } from './insert-params.js';
import type { Statements } from './sql/index.js';
import { insertFlow } from './insert-flow.js';

/** Tries of an insert whose unique keys' holders keep being purged under it (see retryWhileHolderVanishes). */
const KEY_RACE_TRIES = 5;

/** Runs one of the store's statements, on a transaction's client or on the pool. */
export type RunStatement = (
  operation: string,
  stmt: keyof Statements,
  values: readonly unknown[],
) => Promise<unknown[]>;

/**
 * Enqueues jobs: one insert statement (on the caller's transaction when given, else retried as
 * any statement), then a lookup of the holders of the unique keys it refused; each job answers its
 * own id or its key's holder's. `notify` false: no wake-up (insertAttempted sends its own).
 * A batch with parents or concurrency keys goes through insert-flow.ts, in one transaction.
 */
export async function insertJobs(
  ops: PgOps,
  jobs: readonly NewJob[],
  tx: ClientBase | undefined,
  notify = ops.notify,
): Promise<string[]> {
  if (!isArray(jobs)) throw new InvalidOptionError('jobs', 'must be an array');
  if (jobs.length === 0) return [];
  if (jobs.some(waitsOrHoldsSlot)) {
    if (tx) return insertFlow(ops, jobs, runOn(ops, tx), notify);
    return ops.db.transaction('insert jobs', (client) => insertFlow(ops, jobs, runOn(ops, client), notify));
  }
  const run: RunStatement = tx
    ? runOn(ops, tx)
    : (operation, stmt, values) => ops.db.run(operation, ops.sql[stmt], values);
  const answers = await insertKeyed(ops, jobs, run, notify);
  return jobs.map((j) => answers.get(j.id)!);
}

/** Whether a job needs the flow path: it has parents or a concurrency key. */
function waitsOrHoldsSlot(j: NewJob): boolean {
  return (j.after ?? null) !== null || (j.concurrency ?? null) !== null;
}

function runOn(ops: PgOps, client: ClientBase): RunStatement {
  return (operation, stmt, values) => ops.db.runOn(client, operation, ops.sql[stmt], values);
}

/** The insert with its unique-key resolution (tried again while holders vanish): job id -> answer. */
export function insertKeyed(
  ops: PgOps,
  jobs: readonly NewJob[],
  run: RunStatement,
  notify: boolean,
): Promise<Map<string, string>> {
  return retryWhileHolderVanishes(jobs, (pending) => insertOnce(ops, pending, run, notify), {
    tries: KEY_RACE_TRIES,
    provider: 'postgres',
    operation: 'insert jobs',
  });
}

/** One insert, then a lookup of the holders of keys it refused; jobs whose holder vanished are `lost`. */
async function insertOnce(
  ops: PgOps,
  jobs: readonly NewJob[],
  run: RunStatement,
  notify: boolean,
): Promise<KeyedInsertTry<NewJob>> {
  const params = insertParams(jobs);

  const [answer] = (await run('insert jobs', 'insertJobs', [
    ops.now(),
    params.shapes,
    params.ids,
    params.args,
    params.shapeOfJob,
    params.runAt,
    params.uniqueKeys,
    jobs.length,
    notify,
    params.flow,
  ])) as { inserted: number; rows: string | null }[];
  if (answer.rows === null) return { answers: new Map(jobs.map((j) => [j.id, j.id])), lost: [] };
  const inserted = (JSON.parse(answer.rows) as [string, string | null][]).map(([id, unique_key]) => ({
    id,
    unique_key,
  }));
  const answered = new Map<string, string>(); // job id -> id to answer
  const keyHolders = new Map<string, string>();
  for (const row of inserted) {
    answered.set(row.id, row.id);
    if (row.unique_key !== null) keyHolders.set(row.unique_key, row.id);
  }
  // Jobs the insert refused: a later job of the batch sharing a key with an inserted one answers
  // that one's id; the rest (key held by a stored job, or id stored by an earlier try) are looked up.
  const refused = jobs.filter((j) => !answered.has(j.id) && !(j.uniqueKey !== null && keyHolders.has(j.uniqueKey)));
  let lost: NewJob[] = [];
  if (refused.length > 0) {
    const rows = (await run('look up unique-key holders', 'lookupHolders', [
      refused.map((j) => j.id),
      refused.flatMap((j) => (j.uniqueKey === null ? [] : [j.uniqueKey])),
    ])) as { id: string; unique_key: string | null }[];
    const stored = new Set(rows.map((r) => r.id));
    for (const r of rows) if (r.unique_key !== null) keyHolders.set(r.unique_key, r.id);
    // The holder was purged between the two statements: its key is free again (tried again).
    lost = refused.filter((j) => !stored.has(j.id) && !(j.uniqueKey !== null && keyHolders.has(j.uniqueKey)));
    for (const j of refused) if (stored.has(j.id)) answered.set(j.id, j.id);
  }
  const lostIds = new Set(lost.map((j) => j.id));
  const answers = new Map<string, string>();
  for (const j of jobs) if (!lostIds.has(j.id)) answers.set(j.id, answered.get(j.id) ?? keyHolders.get(j.uniqueKey!)!);
  return { answers, lost };
}
