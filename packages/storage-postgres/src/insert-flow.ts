import { outsideParents, UnknownParentError, type NewJob } from '@oddjob/core';
import type { PgOps } from './admin-ops.js';
import { insertKeyed, type RunStatement } from './insert-jobs.js';

/**
 * Enqueues a batch with parents or concurrency keys, on one transaction's client (the caller's, or
 * one of the store's own), so the checks, the rows and their first decisions commit together:
 *
 * 1. Stored parents (outside the batch) are flagged and locked (sql/flow.ts `flowParents`); any not
 *    found refuse the batch with core's UnknownParentError before anything is written. Locking
 *    them before any key keeps one lock order with the statements that end jobs (rows, then keys).
 * 2. The batch's keys are locked (advisory, sorted), then 'skip' jobs whose key has an unfinished
 *    job (stored, or earlier in the batch) are answered with that job's id and not written; a child
 *    naming such a job as a parent waits for the job that stands in for it.
 * 3. The insert (sql/insert-jobs.ts) writes jobs with parents as `waiting` ('parents'), keyed jobs
 *    that do not 'allow' as `waiting` ('slot'), the rest `new`. A batch job answered by the holder
 *    of its unique key is not written: its children in the batch are re-pointed to the holder,
 *    which is then flagged and locked as a stored parent is in step 1.
 * 4. flow_settle writes the dependency rows, records parents already final, decides children whose
 *    parents have all ended, and admits the keys' waiting jobs while slots are free.
 */
export async function insertFlow(ops: PgOps, jobs: readonly NewJob[], run: RunStatement, notify: boolean) {
  const outside = outsideParents(jobs);
  if (outside.length > 0) {
    const found = new Set(
      ((await run('lock parent jobs', 'flowParents', [outside])) as { id: string }[]).map((r) => r.id),
    );
    const missing = outside.filter((id) => !found.has(id));
    if (missing.length > 0) throw new UnknownParentError(missing);
  }
  const keys = distinct(jobs.flatMap((j) => (j.concurrency ? [j.concurrency.key] : [])));
  if (keys.length > 0) await run('lock concurrency keys', 'lockKeys', [keys]);
  const skipped = await skipJobs(jobs, run);
  const rest = jobs.filter((j) => !skipped.has(j.id)).map((j) => standIn(j, skipped));
  const answers = rest.length > 0 ? await insertKeyed(ops, rest, run, notify) : new Map<string, string>();
  const added = rest.filter((j) => answers.get(j.id) === j.id);
  await repointToHolders(rest, added, answers, run);
  const children = added.filter((j) => (j.after ?? null) !== null).map((j) => j.id);
  const slotKeys = distinct(
    added.flatMap((j) => (j.concurrency && j.concurrency.alreadyRunning !== 'allow' ? [j.concurrency.key] : [])),
  );
  if (children.length > 0 || slotKeys.length > 0) {
    await run('settle added jobs', 'settleAdded', [ops.now(), slotKeys, children, notify]);
  }
  return jobs.map((j) => skipped.get(j.id) ?? answers.get(j.id)!);
}

/**
 * Children written with a batch parent that its unique key's holder answered: the holder stands for
 * it. Locking the holder after the keys breaks step 1's order only on this rare path; PostgreSQL
 * would end a resulting deadlock by failing one of the two transactions, never by losing a job.
 */
async function repointToHolders(
  rest: readonly NewJob[],
  added: readonly NewJob[],
  answers: ReadonlyMap<string, string>,
  run: RunStatement,
): Promise<void> {
  const holderOf = new Map<string, string>();
  for (const j of rest) {
    const answer = answers.get(j.id);
    if (answer !== undefined && answer !== j.id) holderOf.set(j.id, answer);
  }
  if (holderOf.size === 0) return;
  const children = added.filter((j) => j.after?.parents.some((p) => holderOf.has(p.job)));
  if (children.length === 0) return;
  // Only the holders these children name: another job of the batch answered by a holder no child
  // waits on needs no lock on it.
  const holders = distinct(
    children.flatMap((j) => j.after!.parents.flatMap((p) => (holderOf.has(p.job) ? [holderOf.get(p.job)!] : []))),
  );
  const found = new Set(
    ((await run('lock parent jobs', 'flowParents', [holders])) as { id: string }[]).map((r) => r.id),
  );
  const gone = holders.filter((id) => !found.has(id)); // purged since the insert met its key
  if (gone.length > 0) throw new UnknownParentError(gone);
  const after = children.map((j) => JSON.stringify(standIn(j, holderOf).after));
  await run('re-point children to unique-key holders', 'repointParents', [children.map((j) => j.id), after]);
}

/** The 'skip' jobs not to write, each with the id of the unfinished job of its key that answers it. */
async function skipJobs(jobs: readonly NewJob[], run: RunStatement): Promise<Map<string, string>> {
  const skipped = new Map<string, string>();
  const skipKeys = distinct(jobs.flatMap((j) => (j.concurrency?.alreadyRunning === 'skip' ? [j.concurrency.key] : [])));
  if (skipKeys.length === 0) return skipped;
  const holders = new Map<string, string>();
  const rows = (await run('look up unfinished jobs of keys', 'keyHolders', [skipKeys])) as {
    key: string;
    holder: string | null;
  }[];
  for (const r of rows) if (r.holder !== null) holders.set(r.key, r.holder);
  for (const j of jobs) {
    if (!j.concurrency) continue;
    const holder = holders.get(j.concurrency.key);
    if (j.concurrency.alreadyRunning === 'skip' && holder !== undefined) skipped.set(j.id, holder);
    else if (holder === undefined) holders.set(j.concurrency.key, j.id); // later jobs of the key skip to this one
  }
  return skipped;
}

/** The job with parents that were skipped replaced by the jobs that answered them. */
function standIn(j: NewJob, skipped: ReadonlyMap<string, string>): NewJob {
  if (!j.after || !j.after.parents.some((p) => skipped.has(p.job))) return j;
  return {
    ...j,
    after: { rule: j.after.rule, parents: j.after.parents.map((p) => ({ ...p, job: skipped.get(p.job) ?? p.job })) },
  };
}

function distinct(values: readonly string[]): string[] {
  return [...new Set(values)];
}
