import type { ActorRef } from './actors.js';
import type { CoordinatorMessage, RunResult } from './messages.js';
import type { RunningJob } from './running-job.js';

export interface FinishedRun {
  run: RunningJob;
  result: RunResult;
}

/**
 * Where workers leave results for their coordinator: a batching mailbox in front of the actor's own.
 *
 * Why: nact delivers at most one message per actor per event-loop turn (each goes through
 * setImmediate). With one message per result, ten workers finishing together would queue ten
 * messages and the coordinator would need ten turns to see them, which caps a queue at one job per
 * turn. Here the first result of a batch rings the coordinator once ('results'); the ones that follow
 * before it answers join the same batch, and the coordinator takes them all in one turn.
 *
 * Safe without locks: Node runs the workers and the coordinator on one thread, `post` and `take` do
 * not await, and the doorbell is re-armed only when the coordinator has taken the batch, so no result
 * can be left behind without a pending 'results' message.
 */
export class ResultInbox {
  private items: FinishedRun[] = [];
  private rung = false;

  constructor(private readonly coordinator: ActorRef<CoordinatorMessage>) {}

  post(run: RunningJob, result: RunResult): void {
    this.items.push({ run, result });
    if (!this.rung) {
      this.rung = true;
      this.coordinator.tell({ kind: 'results' });
    }
  }

  /** Everything posted since the last take; re-arms the doorbell. */
  take(): FinishedRun[] {
    const items = this.items;
    this.items = [];
    this.rung = false;
    return items;
  }
}
