import {
  checkExecutorInfo,
  checkListExecutorsOptions,
  DEFAULT_EXECUTOR_STALE_MS,
  EXECUTOR_PRUNE_MS,
  type ExecutorEntry,
  type ExecutorInfo,
  type IExecutorRegistry,
  type ListExecutorsOptions,
} from '@oddjob/core';
import { affected, type SqlServerContext } from './context.js';
import { executorToRow, rowToExecutor, type ExecutorRow } from './row-mapping.js';
import { heartbeatExecutor, listExecutors, removeExecutor } from './statements.js';

/**
 * The executor registry on SQL Server: one row per executor, upserted each heartbeat with the
 * store's now (the injected clock, else the server's SYSUTCDATETIME()), pruned by every heartbeat
 * and listing once silent for EXECUTOR_PRUNE_MS.
 */
export class SqlServerExecutorRegistry implements IExecutorRegistry {
  constructor(private readonly ctx: SqlServerContext) {}

  async heartbeatExecutor(info: ExecutorInfo): Promise<void> {
    checkExecutorInfo(info);
    await this.ctx.runner.run(heartbeatExecutor(this.ctx.names, executorToRow(info), EXECUTOR_PRUNE_MS));
  }

  async removeExecutor(id: string): Promise<boolean> {
    // An id the registry cannot hold (checkExecutorInfo allows 1 to 200 characters) has no entry.
    if (typeof id !== 'string' || id.length === 0 || id.length > 200) return false;
    return affected(await this.ctx.runner.run(removeExecutor(this.ctx.names, id))) === 1;
  }

  async listExecutors(options?: ListExecutorsOptions): Promise<ExecutorEntry[]> {
    const staleAfterMs = checkListExecutorsOptions(options).staleAfterMs ?? DEFAULT_EXECUTOR_STALE_MS;
    const result = await this.ctx.runner.run<ExecutorRow>(
      listExecutors(this.ctx.names, staleAfterMs, EXECUTOR_PRUNE_MS),
    );
    const rows =
      result.recordsets.length === 0 ? [] : (result.recordsets[result.recordsets.length - 1] as ExecutorRow[]);
    return rows.flatMap((row) => rowToExecutor(row) ?? []);
  }
}
