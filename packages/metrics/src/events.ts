import type { ExecutorEventName, ExecutorEvents, RunWrapper } from '@oddjob/executor-actors';

/**
 * The one thing this package needs from an executor: its typed events. A structural type (rather
 * than the JobExecutorShell class) so that this package imports the executor's types only, never
 * its code, and so tests or another executor can hand in anything that emits the same events.
 */
export interface ExecutorEventSource {
  on<K extends ExecutorEventName>(event: K, listener: (payload: ExecutorEvents[K]) => void): () => void;
  /** Code around each in-process run (JobExecutorShell has it); tracing uses it to make the run's span active. */
  aroundRun?(wrapper: RunWrapper): () => void;
}
