// Sending the log lines of running jobs to storage between sweeps. Apart from coordinator.ts
// because it only reads the runs and talks to the layer; the coordinator just calls it on each sweep.
import type { LogAppend } from '@oddjob/core';
import type { ActorRef } from './actors.js';
import type { LayerMessage } from './messages.js';
import type { RunningJob } from './running-job.js';

/**
 * Writes the log lines running jobs wrote since the last sweep, so other processes can read them
 * while the jobs run. A failed write gives the lines back to their runs (the next sweep or the
 * outcome carries them).
 */
export function flushLogs(runs: Iterable<RunningJob>, layer: ActorRef<LayerMessage>): void {
  let entries: LogAppend[] | undefined;
  // The very runs the lines came from: a later claim of the same job is another run (attempt).
  const byJob = new Map<string, RunningJob>();
  for (const run of runs) {
    if (!run.hasPendingLogs || run.abortReason === 'lease-lost') continue;
    const lines = run.takeLogs()!;
    (entries ??= []).push({ lease: run.lease, lines });
    byJob.set(run.job.id, run);
  }
  if (entries === undefined) return;
  layer.tell({
    kind: 'logs',
    entries,
    failed: (back) => {
      for (const e of back) byJob.get(e.lease.jobId)?.putBackLogs(e.lines);
    },
  });
}
