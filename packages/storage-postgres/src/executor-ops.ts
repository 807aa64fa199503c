import {
  checkExecutorInfo,
  checkListExecutorsOptions,
  DEFAULT_EXECUTOR_STALE_MS,
  EXECUTOR_PRUNE_MS,
  type ExecutorEntry,
  type ExecutorInfo,
  type ListExecutorsOptions,
} from '@oddjob/core';
import type { PgOps } from './admin-ops.js';
import { jsonText, toExecutorEntry, type ExecutorRow } from './rows.js';

/** The executor registry's operations (sql/executors.ts); PostgresJobStore delegates to them. */
export async function heartbeatExecutor(c: PgOps, info: ExecutorInfo): Promise<void> {
  checkExecutorInfo(info);
  const queues = jsonText(
    info.queues.map((q) => ({ name: q.name, workers: q.workers })),
    'executor.queues',
  );
  await c.db.run('heartbeat executor', c.sql.heartbeatExecutor, [
    c.now(),
    info.id,
    info.host,
    info.pid,
    info.version,
    queues,
    info.startedAt,
    info.state,
    EXECUTOR_PRUNE_MS,
  ]);
}

export async function removeExecutor(c: PgOps, id: string): Promise<boolean> {
  if (typeof id !== 'string') return false;
  const rows = await c.db.run('remove executor', c.sql.removeExecutor, [id]);
  return rows.length === 1;
}

export async function listExecutors(c: PgOps, options?: ListExecutorsOptions): Promise<ExecutorEntry[]> {
  const staleAfterMs = checkListExecutorsOptions(options).staleAfterMs ?? DEFAULT_EXECUTOR_STALE_MS;
  const rows = await c.db.run<ExecutorRow>('list executors', c.sql.listExecutors, [
    c.now(),
    EXECUTOR_PRUNE_MS,
    staleAfterMs,
  ]);
  return rows.map(toExecutorEntry);
}
