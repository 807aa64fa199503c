/**
 * The T-SQL of jobs that wait (core's flow.ts), in one place: the per-key application locks, the
 * admission of waiting jobs to a key's free slots, and `settleText`, the one routine every write that
 * makes jobs final runs in its own transaction (outcomes, cancel, the claim's lease-expiry reap).
 *
 * These are pieces of batches, not statements of their own: a batch that uses them DECLAREs the
 * table variables `flowDeclarations` lists once, fills `@final` with the jobs it just made final
 * (and, before its own UPDATE, `@freed` with keys it knows it will free, see lockKeysText), and then
 * splices `settleText`. A T-SQL variable is batch-scoped whatever block declares it, so each piece
 * is spliced at most once per batch (lockKeysText takes a tag to tell its copies apart).
 */
import { createHash } from 'node:crypto';
import type { SchemaNames } from '../identifiers.js';
import { BIN2, T, type Param } from './common.js';

/** THROWn when a concurrency key's lock cannot be had (time-out, or chosen as a deadlock victim): transient. */
export const KEY_LOCK_FAILED = 51002;

/**
 * How long a write waits for a key's lock (sp_getapplock @LockTimeout). Under mssql's default
 * request time-out (15 s), so a long wait fails as KEY_LOCK_FAILED (retried), not as a client time-out.
 */
export const KEY_LOCK_TIMEOUT_MS = 10_000;

/** The resource-name prefix of a schema's key locks (lower-cased: applock names compare byte for byte). */
export function keyLockPrefix(n: SchemaNames): string {
  return `oddjob.key.${n.schema.toLowerCase()}.`;
}

/**
 * The applock resource of a concurrency key, as the writer binds it: the prefix and the SHA-256 of
 * the key's UTF-16LE bytes with trailing spaces cut, in upper-case hex. That is what the T-SQL
 * `keyLockExpression` computes (HASHBYTES of an nvarchar hashes its UTF-16LE bytes; RTRIM cuts
 * spaces only), so a write in TypeScript and a write in T-SQL take the same lock for one key, and
 * keys equal under SQL Server's trailing-space rule ("k", "k ") share it. A hash because keys run
 * to 512 characters and resource names to 255.
 */
export function keyLockResource(n: SchemaNames, key: string): string {
  const digest = createHash('sha256')
    .update(Buffer.from(key.replace(/ +$/, ''), 'utf16le'))
    .digest('hex')
    .toUpperCase();
  return keyLockPrefix(n) + digest;
}

/** keyLockResource in T-SQL, for a key column or variable `k`. */
export function keyLockExpression(n: SchemaNames, k: string): string {
  return `CONCAT(N'${keyLockPrefix(n)}', CONVERT(varchar(64), HASHBYTES('SHA2_256', RTRIM(${k})), 2))`;
}

/** One sp_getapplock call for `resource` (a parameter or variable) that THROWs unless granted. */
export function lockCall(resource: string): string {
  // Positional arguments, in the documented order (@Resource, @LockMode, @LockOwner, @LockTimeout).
  // Owner Transaction: released by the commit or rollback, never leaked to the pooled connection.
  return `EXEC @got = sys.sp_getapplock ${resource}, 'Exclusive', 'Transaction', ${KEY_LOCK_TIMEOUT_MS};
IF @got < 0 THROW ${KEY_LOCK_FAILED}, N'OddJob: a concurrency key lock was not granted (time-out or deadlock); try again', 1;`;
}

/** The table variables the flow pieces share; DECLAREd once in a batch that uses them, before them. */
export function flowDeclarations(): string {
  return [
    `DECLARE @final TABLE (id char(36) ${BIN2} NOT NULL PRIMARY KEY, status varchar(10) NOT NULL);`,
    `DECLARE @freed TABLE (k nvarchar(512) ${BIN2} NOT NULL PRIMARY KEY);`,
    'DECLARE @got int;',
  ].join('\n');
}

/**
 * Takes the lock of every key in @freed, in resource-name order, so two writers that need the same
 * keys take them in the same order. A key already held by this transaction is granted again at once.
 * A batch that knows which keys its UPDATE frees locks them before that UPDATE (so it never holds a
 * key's rows while waiting for the key's lock); keys found later are locked after, which may deadlock
 * with another writer: SQL Server then picks a victim, which fails with 1205 or KEY_LOCK_FAILED and is
 * retried whole.
 */
export function lockKeysText(n: SchemaNames, tag: string): string {
  const locks = `@locks_${tag}`;
  const at = `@lk_${tag}`;
  return `DECLARE ${locks} TABLE (r varchar(200) ${BIN2} NOT NULL PRIMARY KEY);
INSERT INTO ${locks} (r) SELECT DISTINCT ${keyLockExpression(n, 'f.k')} FROM @freed AS f;
DECLARE ${at} varchar(200) = (SELECT MIN(r) FROM ${locks});
WHILE ${at} IS NOT NULL
BEGIN
  ${lockCall(at).split('\n').join('\n  ')}
  SET ${at} = (SELECT MIN(r) FROM ${locks} WHERE r > ${at});
END;`;
}

/**
 * Admits waiting jobs of the keys in @freed (whose locks the batch holds), in claim order (priority
 * descending, run_at, id), while the key has free slots: the k-th waiting job of a key goes if the
 * key's admitted jobs plus k stay within the limit of every job up to it. The minimum of
 * (limit - k) over that prefix is a running MIN window (SQL Server 2012+); windows cannot nest, hence
 * the two CTEs. The UPDATE names the base table joined to the CTE (Babelfish refuses an UPDATE through
 * a CTE), and counts the admitted jobs as they were before it (an UPDATE reads before it writes).
 */
export function admitText(n: SchemaNames): string {
  return `WITH ranked AS (
  SELECT w.id, w.concurrency_key AS k, w.concurrency_limit AS lim,
         ROW_NUMBER() OVER (PARTITION BY w.concurrency_key ORDER BY w.priority DESC, w.run_at, w.id) AS rn
  FROM ${n.jobs} AS w
  WHERE w.status = 'waiting' AND w.waiting_for = 'slot' AND w.concurrency_key IN (SELECT f.k FROM @freed AS f)
), room AS (
  SELECT r.id, r.k, MIN(r.lim - r.rn) OVER (PARTITION BY r.k ORDER BY r.rn ROWS UNBOUNDED PRECEDING) AS headroom
  FROM ranked AS r
)
UPDATE j SET status = 'new', waiting_for = NULL, updated_at = @now
FROM ${n.jobs} AS j JOIN room AS m ON m.id = j.id
WHERE j.status = 'waiting' AND j.waiting_for = 'slot'
  AND m.headroom >= (SELECT COUNT(*) FROM ${n.jobs} AS h WHERE h.concurrency_key = m.k AND h.status IN ('new', 'retry', 'processing'));`;
}

/** The head and tail of core's DependencyError JSON around its message (see ownerErrorJson). */
export interface ErrorJsonParts {
  head: string;
  tail: string;
}

/** The parameters settleText binds: the DependencyError JSON around the message the T-SQL builds. */
export function settleParams(dependencyError: ErrorJsonParts): Param[] {
  return [
    { name: 'depHead', type: T.text, value: dependencyError.head },
    { name: 'depTail', type: T.text, value: dependencyError.tail },
  ];
}

/** A dependency row's parent met what it awaited (core's `meets`), in T-SQL over alias `x`. */
const MEETS =
  "(x.awaited = 'finished' OR (x.awaited = 'succeeded' AND x.outcome = 'done') OR (x.awaited = 'failed' AND x.outcome = 'failed'))";

/**
 * "These job ids just became final" (@final: id, final status), in the transaction that made them so.
 * Guarded by one IF so that a final job with no key, no releasable unique key and no open child — a
 * plain job, the hot path — costs two seeks. Otherwise, wave after wave until nothing is left:
 * - 'unfinished' and 'queued' unique keys of the wave's jobs are let go (unique_held = 0);
 * - each open dependency on a wave job records its final status (outcome), found through the
 *   filtered index on open dependencies by parent; OUTPUT collects the children it touched;
 * - children waiting for parents with no open dependency left are decided as core's decideChild
 *   does, with its exact messages: 'each' by the first parent (in `after` order) that missed its
 *   `when`, 'mixed' by counting done parents; the rule is read from after_json with JSON_VALUE;
 * - cancelled children (DependencyError, finished_at) are the next wave, so a chain ends at once;
 *   released ones become `new`, or `waiting` for a slot when they have a key ('allow' goes at once).
 * Then the keys of the first wave's jobs and of released children are locked and their waiting jobs
 * admitted (admitText). Cascade waves add no keys: a child waiting for its parents never held a slot.
 */
export function settleText(n: SchemaNames): string {
  const d = n.dependencies;
  return `DECLARE @wave TABLE (id char(36) ${BIN2} NOT NULL PRIMARY KEY, status varchar(10) NOT NULL);
DECLARE @ready TABLE (id char(36) ${BIN2} NOT NULL PRIMARY KEY, message nvarchar(4000) NULL);
DECLARE @touched TABLE (id char(36) ${BIN2} NOT NULL);
IF EXISTS (SELECT 1 FROM @final AS f, ${n.jobs} AS j
           WHERE j.id = f.id AND (j.concurrency_key IS NOT NULL OR (j.unique_held = 1 AND j.unique_scope <> 'stored')))
   OR EXISTS (SELECT 1 FROM @final AS f, ${d} AS o WHERE o.parent_id = f.id AND o.outcome IS NULL)
BEGIN
  INSERT INTO @wave (id, status) SELECT id, status FROM @final;
  INSERT INTO @freed (k) SELECT DISTINCT j.concurrency_key FROM @final AS f, ${n.jobs} AS j
  WHERE j.id = f.id AND j.concurrency_key IS NOT NULL AND NOT EXISTS (SELECT 1 FROM @freed AS e WHERE e.k = j.concurrency_key);
  WHILE EXISTS (SELECT 1 FROM @wave)
  BEGIN
    UPDATE j SET unique_held = 0 FROM ${n.jobs} AS j, @wave AS w
    WHERE j.id = w.id AND j.unique_held = 1 AND j.unique_scope <> 'stored';
    DELETE FROM @touched;
    UPDATE o SET outcome = w.status
    OUTPUT inserted.child_id INTO @touched (id)
    FROM ${d} AS o, @wave AS w WHERE o.parent_id = w.id AND o.outcome IS NULL;
    DELETE FROM @ready;
    INSERT INTO @ready (id, message)
    SELECT c.id,
      CASE WHEN JSON_VALUE(c.after_json, '$.rule') = 'mixed'
           THEN CASE WHEN m.done = m.total THEN N'every parent ended done, not a mixed outcome'
                     WHEN m.done = 0 THEN N'no parent ended done, not a mixed outcome' END
           ELSE CASE WHEN b.parent_id IS NOT NULL
                     THEN CONCAT(N'parent ', b.parent_id, N' ended ', b.outcome, N', not ', b.awaited) END END
    FROM ${n.jobs} AS c
    CROSS APPLY (SELECT COUNT(*) AS total, SUM(CASE WHEN y.outcome = 'done' THEN 1 ELSE 0 END) AS done,
                        SUM(CASE WHEN y.outcome IS NULL THEN 1 ELSE 0 END) AS pending
                 FROM ${d} AS y WHERE y.child_id = c.id) AS m
    OUTER APPLY (SELECT TOP (1) x.parent_id, x.outcome, x.awaited FROM ${d} AS x
                 WHERE x.child_id = c.id AND NOT ${MEETS} ORDER BY x.ord) AS b
    WHERE c.status = 'waiting' AND c.waiting_for = 'parents' AND m.pending = 0
      AND c.id IN (SELECT t.id FROM @touched AS t);
    DELETE FROM @wave;
    UPDATE j SET status = 'cancelled', waiting_for = NULL, finished_at = @now, updated_at = @now,
      last_error = CONCAT(@depHead, STRING_ESCAPE(r.message, 'json'), @depTail)
    OUTPUT inserted.id, inserted.status INTO @wave (id, status)
    FROM ${n.jobs} AS j, @ready AS r WHERE j.id = r.id AND r.message IS NOT NULL;
    UPDATE j SET
      status = CASE WHEN j.concurrency_key IS NULL OR j.already_running = 'allow' THEN 'new' ELSE 'waiting' END,
      waiting_for = CASE WHEN j.concurrency_key IS NULL OR j.already_running = 'allow' THEN NULL ELSE 'slot' END,
      updated_at = @now
    FROM ${n.jobs} AS j, @ready AS r WHERE j.id = r.id AND r.message IS NULL;
    INSERT INTO @freed (k) SELECT DISTINCT j.concurrency_key FROM ${n.jobs} AS j, @ready AS r
    WHERE j.id = r.id AND r.message IS NULL AND j.status = 'waiting'
      AND NOT EXISTS (SELECT 1 FROM @freed AS e WHERE e.k = j.concurrency_key);
  END;
END;
IF EXISTS (SELECT 1 FROM @freed)
BEGIN
  ${lockKeysText(n, 'settle').split('\n').join('\n  ')}
  ${admitText(n).split('\n').join('\n  ')}
END;`;
}
