import type { IJobQueueManager, JobLogger, MemoryJobStore } from '@oddjob/core';
import { JobQueueCoordinator, type CoordinatorInit } from '../src/index.js';

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  obj: Record<string, unknown>;
  msg: string | undefined;
}

/** Records every entry (child bindings merged in), so tests can assert on what was logged. */
export class CapturingLogger implements JobLogger {
  constructor(
    readonly entries: LogEntry[] = [],
    private readonly bindings: Record<string, unknown> = {},
  ) {}
  private add(level: LogEntry['level'], obj: object, msg?: string): void {
    this.entries.push({ level, obj: { ...this.bindings, ...(obj as Record<string, unknown>) }, msg });
  }
  debug(obj: object, msg?: string): void {
    this.add('debug', obj, msg);
  }
  info(obj: object, msg?: string): void {
    this.add('info', obj, msg);
  }
  warn(obj: object, msg?: string): void {
    this.add('warn', obj, msg);
  }
  error(obj: object, msg?: string): void {
    this.add('error', obj, msg);
  }
  child(bindings: object): JobLogger {
    return new CapturingLogger(this.entries, { ...this.bindings, ...(bindings as Record<string, unknown>) });
  }
  errors(): LogEntry[] {
    return this.entries.filter((e) => e.level === 'error');
  }
}

/** Polls until `cond` holds; generous default bound because the machine is shared and slow. */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A manager that forwards to the store; override any operation to observe or break it. */
export function wrapManager(store: MemoryJobStore, overrides: Partial<IJobQueueManager> = {}): IJobQueueManager {
  return {
    claimJobs: (r) => store.claimJobs(r),
    recordOutcomes: (o) => store.recordOutcomes(o),
    extendLeases: (l, ms) => store.extendLeases(l, ms),
    reportProgress: (l, p, m) => store.reportProgress(l, p, m),
    appendLogs: (e) => store.appendLogs(e),
    onJobsAvailable: (listener) => store.onJobsAvailable(listener),
    ...overrides,
  };
}

/** A promise with its resolve function exposed: lets a job block until the test releases it. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

/** Number of live timers: a shell that shut down must leave none of its own behind. */
export function activeTimers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout' || r === 'Immediate').length;
}

/** A coordinator class that keeps every instance the shell makes, so a test can read `pending`. */
export function observedCoordinator(): { Observed: typeof JobQueueCoordinator; coordinators: JobQueueCoordinator[] } {
  const coordinators: JobQueueCoordinator[] = [];
  class Observed extends JobQueueCoordinator {
    constructor(init: CoordinatorInit) {
      super(init);
      coordinators.push(this);
    }
  }
  return { Observed, coordinators };
}
