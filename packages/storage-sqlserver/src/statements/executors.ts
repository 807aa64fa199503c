import type { SchemaNames } from '../identifiers.js';
import { EXECUTOR_COLUMNS, T, type BuiltStatement } from './common.js';
// ---------------------------------------------------------------------------------------------
// The executor registry

/** An executor's heartbeat as the upsert binds it (queues already JSON). */
export interface ExecutorRowInput {
  id: string;
  host: string;
  pid: number;
  version: string;
  queues: string;
  startedAt: Date;
  state: string;
}

/** Deletes entries whose heartbeat is older than @pruneMs (core's EXECUTOR_PRUNE_MS): now - heartbeat > prune. */
function prune(n: SchemaNames): string {
  return `DELETE FROM ${n.executors} WHERE heartbeat_at < DATEADD(millisecond, -@pruneMs, @now);`;
}

/**
 * heartbeatExecutor — why: the upsert SQL Server's locking makes safe without MERGE (whose upsert
 * races under concurrency are well documented): in one transaction, UPDATE WITH (UPDLOCK,
 * SERIALIZABLE) and, if it found no row, INSERT. UPDLOCK makes two heartbeats of one id queue on
 * each other instead of both reading "absent"; SERIALIZABLE holds a key-range lock when the id is
 * absent, so the other cannot insert it in between. The primary key stays the backstop (a 2627
 * would fail the heartbeat, which the shell retries next beat). @@ROWCOUNT follows an UPDATE with
 * no OUTPUT, which every engine reports. Dead entries are pruned in the same round trip.
 */
export function heartbeatExecutor(n: SchemaNames, e: ExecutorRowInput, pruneMs: number): BuiltStatement {
  return {
    name: 'heartbeatExecutor',
    usesNow: true,
    params: [
      { name: 'id', type: T.name, value: e.id },
      { name: 'host', type: T.host, value: e.host },
      { name: 'pid', type: T.int, value: e.pid },
      { name: 'version', type: T.version, value: e.version },
      { name: 'queues', type: T.text, value: e.queues },
      { name: 'startedAt', type: T.time, value: e.startedAt },
      { name: 'state', type: T.status, value: e.state },
      { name: 'pruneMs', type: T.int, value: pruneMs },
    ],
    text: `
SET XACT_ABORT ON;
BEGIN TRANSACTION;
UPDATE ${n.executors} WITH (UPDLOCK, SERIALIZABLE)
SET host = @host, pid = @pid, version = @version, queues = @queues, started_at = @startedAt, state = @state, heartbeat_at = @now
WHERE id = @id;
IF @@ROWCOUNT = 0
  INSERT INTO ${n.executors} (${EXECUTOR_COLUMNS.join(', ')}) VALUES (@id, @host, @pid, @version, @queues, @startedAt, @state, @now);
COMMIT TRANSACTION;
${prune(n)}`,
  };
}

/** removeExecutor — why: a primary-key DELETE; rowsAffected answers whether there was an entry. */
export function removeExecutor(n: SchemaNames, id: string): BuiltStatement {
  return {
    name: 'removeExecutor',
    usesNow: false,
    params: [{ name: 'id', type: T.name, value: id }],
    text: `DELETE FROM ${n.executors} WHERE id = @id;`,
  };
}

/**
 * listExecutors — why: prunes, then reads every entry by id (BIN2: code-point order) with `stale`
 * computed against the same @now the store writes heartbeats with: now - heartbeat > staleAfterMs.
 */
export function listExecutors(n: SchemaNames, staleMs: number, pruneMs: number): BuiltStatement {
  return {
    name: 'listExecutors',
    usesNow: true,
    params: [
      { name: 'staleMs', type: T.int, value: staleMs },
      { name: 'pruneMs', type: T.int, value: pruneMs },
    ],
    text: `
${prune(n)}
SELECT ${EXECUTOR_COLUMNS.join(', ')}, CASE WHEN heartbeat_at < DATEADD(millisecond, -@staleMs, @now) THEN 1 ELSE 0 END AS stale
FROM ${n.executors} ORDER BY id;`,
  };
}
