import { JobNotFoundError, WaitTimeoutError } from './errors.js';
import type { WaitOptions } from './history.js';
import type { JobRecord } from './job.js';
import { isFinalStatus } from './status.js';
import { checkWaitOptions } from './checks/history-checks.js';

/**
 * A store's way to wake waiters early: `watch(id, wake)` starts calling `wake()` whenever the job
 * may have become final (PostgreSQL: a NOTIFY; the memory store: its own outcome writes) and
 * resolves with the function that stops it. Waiters still re-read the job on every wake and keep
 * polling, so a lost or spurious wake-up only costs time.
 */
export type FinishWatch = (id: string, wake: () => void) => Promise<() => void>;

/** Polling starts this fast and backs off by half each round to POLL_MAX_MS. */
const POLL_MIN_MS = 20;
const POLL_MAX_MS = 1_000;
/** With a wake-up channel, polling is only the safety net. */
const POLL_WITH_WATCH_MS = 5_000;

/**
 * The one implementation of `IJobQueueAdmin.waitForJob` every store delegates to: re-reads the job
 * (with `getJob`) after each wake-up or poll until it is final. Never spins: the poll interval grows
 * from 20 ms to 1 s (5 s when the store can wake waiters), and a timeout or abort ends it.
 */
export async function waitForFinalJob(
  getJob: (id: string) => Promise<JobRecord | null>,
  id: string,
  options: WaitOptions = {},
  watch?: FinishWatch,
): Promise<JobRecord> {
  const { timeoutMs, signal } = checkWaitOptions(options);
  if (typeof id !== 'string' || id.length === 0) throw new JobNotFoundError(String(id), 'is not a job id');
  signal?.throwIfAborted();
  const deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;

  let wakeUp: (() => void) | undefined;
  let woken = false;
  const wake = () => {
    woken = true;
    wakeUp?.();
  };
  const unwatch = watch ? await watch(id, wake) : undefined;
  const onAbort = () => wake();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    let pollMs = POLL_MIN_MS;
    for (;;) {
      woken = false;
      const job = await getJob(id);
      if (job === null) throw new JobNotFoundError(id, 'does not exist (or was purged while being waited on)');
      if (isFinalStatus(job.status)) return job;
      signal?.throwIfAborted();
      const left = deadline - Date.now();
      if (left <= 0) throw new WaitTimeoutError(id, timeoutMs!, job.status);
      if (!woken) {
        const sleepMs = Math.min(left, watch ? POLL_WITH_WATCH_MS : pollMs);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, sleepMs);
          wakeUp = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wakeUp = undefined;
      }
      signal?.throwIfAborted();
      pollMs = Math.min(POLL_MAX_MS, Math.ceil(pollMs * 1.5));
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    unwatch?.();
  }
}
