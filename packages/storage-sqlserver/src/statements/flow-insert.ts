import type { SchemaNames } from '../identifiers.js';
import { T, type BuiltStatement, type Param } from './common.js';
import { lockCall } from './flow.js';
import { list } from './helpers.js';
// ---------------------------------------------------------------------------------------------
// Inserting jobs that wait (flow.ts): what the writer reads, under locks, before it places a batch

/**
 * flowInsertState — why: the writer decides in TypeScript where each job of a batch starts (core's
 * rules, with the batch's own order), from what this batch reads, so everything it reads must stay
 * true until the insert commits. In the writer's transaction, one round trip:
 * 1. the applock of every concurrency key of the batch (exclusive, owned by the transaction), in the
 *    order given (the writer sorts the resource names, as lockKeysText does), so two inserts of one
 *    key — or an insert and the end of a job of that key — run one after the other, and a key admits
 *    exactly its limit and 'skip' stores one job;
 * 2. the parents the batch names outside itself, with (UPDLOCK, HOLDLOCK): a parent cannot be purged
 *    or become final between this read and the commit (its end then waits for us, and finds our
 *    dependency rows); a missing one is UnknownParentError before anything is written;
 * 3. per key: admitted jobs (new, retry, processing), whether any waits for a slot, and the oldest
 *    unfinished job (the id a 'skip' add answers);
 * 4. the holders of the batch's unique keys (held ones only) and their status, under the same
 *    key-range locks the insert takes: a job whose key is held is not written, and a child naming
 *    it waits for the holder instead.
 * Result sets come in that order, each only when its list is not empty (the writer knows which).
 */
export function flowInsertState(
  n: SchemaNames,
  req: {
    resources: readonly string[];
    parents: readonly string[];
    keys: readonly string[];
    uniqueKeys: readonly string[];
  },
): BuiltStatement {
  const params: Param[] = [];
  const parts: string[] = ['DECLARE @got int;'];
  req.resources.forEach((r, i) => {
    params.push({ name: `lr${i}`, type: T.name, value: r });
    parts.push(lockCall(`@lr${i}`));
  });
  if (req.parents.length > 0) {
    const p = list('p', T.id, req.parents);
    params.push(...p.params);
    parts.push(`SELECT id, status FROM ${n.jobs} WITH (UPDLOCK, HOLDLOCK, ROWLOCK) WHERE id IN (${p.text});`);
  }
  if (req.keys.length > 0) {
    const k = list('k', T.concurrencyKey, req.keys);
    params.push(...k.params);
    parts.push(`SELECT concurrency_key AS k,
  SUM(CASE WHEN status IN ('new', 'retry', 'processing') THEN 1 ELSE 0 END) AS admitted,
  SUM(CASE WHEN status = 'waiting' AND waiting_for = 'slot' THEN 1 ELSE 0 END) AS queued,
  MIN(id) AS unfinished
FROM ${n.jobs}
WHERE concurrency_key IN (${k.text}) AND status IN ('waiting', 'new', 'retry', 'processing')
GROUP BY concurrency_key;`);
  }
  if (req.uniqueKeys.length > 0) {
    const u = list('u', T.uniqueKey, req.uniqueKeys);
    params.push(...u.params);
    parts.push(
      `SELECT id, unique_key, status FROM ${n.jobs} WITH (UPDLOCK, HOLDLOCK) WHERE unique_key IN (${u.text}) AND unique_held = 1;`,
    );
  }
  return { name: 'flowInsertState', usesNow: false, params, text: `\n${parts.join('\n')}` };
}

/** One dependency row: child `child` waits for `parent` (its `ord`-th parent) to end as `awaited`. */
export interface DependencyRowInput {
  child: string;
  ord: number;
  parent: string;
  awaited: string;
  /** The parent's final status when it was already final at insert; null otherwise. */
  outcome: string | null;
}

export const DEPENDENCY_PARAMS_PER_ROW = 4;

/**
 * insertDependencies — why: one multi-row INSERT per chunk, in the transaction of the jobs' own
 * insert, only for children that insert wrote (a child whose id is absent was not: a held unique
 * key or 'skip'). `ord` is the parent's position in `after`, spliced as a generated integer.
 */
export function insertDependencies(n: SchemaNames, rows: readonly DependencyRowInput[]): BuiltStatement {
  const params: Param[] = [];
  const values = rows.map((r, i) => {
    params.push(
      { name: `c${i}`, type: T.id, value: r.child },
      { name: `p${i}`, type: T.id, value: r.parent },
      { name: `w${i}`, type: T.status, value: r.awaited },
      { name: `o${i}`, type: T.status, value: r.outcome },
    );
    return `(@c${i}, ${Math.trunc(r.ord)}, @p${i}, @w${i}, @o${i})`;
  });
  return {
    name: 'insertDependencies',
    usesNow: false,
    params,
    text: `
INSERT INTO ${n.dependencies} (child_id, ord, parent_id, awaited, outcome)
SELECT v.child_id, v.ord, v.parent_id, v.awaited, v.outcome
FROM (VALUES ${values.join(', ')}) AS v (child_id, ord, parent_id, awaited, outcome)
WHERE EXISTS (SELECT 1 FROM ${n.jobs} AS j WHERE j.id = v.child_id)
  AND NOT EXISTS (SELECT 1 FROM ${n.dependencies} AS e WHERE e.child_id = v.child_id AND e.ord = v.ord);`,
  };
}
