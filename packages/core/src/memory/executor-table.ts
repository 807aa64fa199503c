// The memory store's executor registry: the last heartbeat of each executor, pruned when long gone.
// Kept apart from memory-store.ts because it shares nothing with the job table but the clock; the
// store only forwards IExecutorRegistry to it.
import { checkExecutorInfo, checkListExecutorsOptions } from '../checks/history-checks.js';
import {
  DEFAULT_EXECUTOR_STALE_MS,
  EXECUTOR_PRUNE_MS,
  type ExecutorEntry,
  type ExecutorInfo,
  type ListExecutorsOptions,
} from '../executors.js';

export class ExecutorTable {
  private readonly executors = new Map<string, { info: ExecutorInfo; heartbeatAt: Date }>();

  heartbeat(info: ExecutorInfo, now: Date): void {
    checkExecutorInfo(info);
    this.prune(now);
    this.executors.set(info.id, { info: structuredClone(info), heartbeatAt: now });
  }

  remove(id: string): boolean {
    return this.executors.delete(id);
  }

  list(options: ListExecutorsOptions | undefined, now: Date): ExecutorEntry[] {
    const staleAfterMs = checkListExecutorsOptions(options).staleAfterMs ?? DEFAULT_EXECUTOR_STALE_MS;
    this.prune(now);
    return [...this.executors.values()]
      .sort((a, b) => (a.info.id < b.info.id ? -1 : 1))
      .map(({ info, heartbeatAt }) => ({
        ...structuredClone(info),
        heartbeatAt: new Date(heartbeatAt),
        stale: now.getTime() - heartbeatAt.getTime() > staleAfterMs,
      }));
  }

  private prune(now: Date): void {
    for (const [id, e] of this.executors)
      if (now.getTime() - e.heartbeatAt.getTime() > EXECUTOR_PRUNE_MS) this.executors.delete(id);
  }
}
