import type { IExecutorRegistry, IJobQueueAdmin } from '@oddjob/core';
import type { TenantOptions } from './options.js';

/** The part of an executor registry the dashboard reads. */
export type ExecutorLister = Pick<IExecutorRegistry, 'listExecutors'>;

/**
 * What the given objects can answer, decided once at registration. Every OddJob store implements
 * run history and the executor registry, but a user's own store (or one built against an older
 * core) may not: its routes then answer 501 and the UI hides or marks those parts, instead of 500s.
 */
export interface Capabilities {
  /** listRuns, listLogs and JobRecord.result/progressMessage/startedAt/executorId/host. */
  history: boolean;
  executors: ExecutorLister | null;
}

export function hasHistory(admin: IJobQueueAdmin): boolean {
  const a = admin as Partial<IJobQueueAdmin>;
  return typeof a.listRuns === 'function' && typeof a.listLogs === 'function';
}

export function isExecutorLister(value: unknown): value is ExecutorLister {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as Partial<ExecutorLister>).listExecutors === 'function'
  );
}

/** `executors` when given, else the admin object when it is also the registry (a store is one object). */
export function capabilitiesOf(o: TenantOptions): Capabilities {
  const executors = o.executors ?? (isExecutorLister(o.admin) ? o.admin : null);
  return { history: hasHistory(o.admin), executors };
}
