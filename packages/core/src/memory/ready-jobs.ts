// The memory store's ready jobs, ordered for claiming: the heaps per queue and per pinned host, and
// the walk that picks the next job a claim may take. Kept apart from memory-store.ts because it is
// the one data structure the claim order rests on, and it changes for different reasons (claim cost,
// pinning rules) than the job lifecycle the store itself writes.
import { isClaimableStatus } from '../status.js';
import { MinHeap } from './heap.js';
import type { StoredJob } from './stored-job.js';

/**
 * Heap entries point at the job itself rather than at its id, so a claim or a reap needs no map
 * lookup per entry. A purged job's entries are harmless: only final jobs are purged, and a final
 * job's entries are stale (not waiting, not processing) however long they stay.
 */
interface ReadyEntry {
  job: StoredJob;
  runAt: number;
  order: number;
  seq: number;
}

const byRunAtThenCreation = (a: ReadyEntry, b: ReadyEntry) =>
  a.runAt < b.runAt || (a.runAt === b.runAt && a.order < b.order);

/**
 * A queue's ready jobs: one heap per (pin, priority), so a claim looks at the tops of its own heaps
 * and at other hosts' tops only to see whether they are overdue (their tops are their oldest), and
 * never walks past jobs it may not take. Priorities get heaps of their own rather than a place in
 * one heap's order: a high-priority job that is not due yet would otherwise sit on top and hide the
 * due jobs below it. A queue usually has one or two priorities, so a claim compares a few tops.
 */
type QueueHeaps = Map<string | null, Map<number, MinHeap<ReadyEntry>>>;

/** A heap a claim looks at, its priority, and the latest runAt (ms) it may take from it. */
export interface Candidate {
  heap: MinHeap<ReadyEntry>;
  priority: number;
  dueBy: number;
}

/** The ready heaps of every queue, keyed by queue name. */
export class ReadyJobs {
  private readonly queues = new Map<string, QueueHeaps>();

  /** Puts the job in its ready heap; older entries of the same job become stale by its bumped seq. */
  add(job: StoredJob): void {
    job.seq += 1;
    let pins = this.queues.get(job.queue);
    if (!pins) this.queues.set(job.queue, (pins = new Map<string | null, Map<number, MinHeap<ReadyEntry>>>()));
    let byPriority = pins.get(job.pinnedHost);
    if (!byPriority) pins.set(job.pinnedHost, (byPriority = new Map<number, MinHeap<ReadyEntry>>()));
    let heap = byPriority.get(job.priority);
    if (!heap) byPriority.set(job.priority, (heap = new MinHeap(byRunAtThenCreation)));
    heap.push({ job, runAt: job.runAt.getTime(), order: job.order, seq: job.seq });
  }

  /**
   * The ready heaps of the queues asked for, looked up once per claim: unpinned and pinned to `host`
   * due by now, pinned to other hosts due by `overdueBy` (now - takeoverAfterMs - 1: older than the
   * threshold).
   */
  candidates(queues: readonly string[], host: string | undefined, nowMs: number, overdueBy: number): Candidate[] {
    const candidates: Candidate[] = [];
    for (const queue of queues) {
      const pins = this.queues.get(queue);
      if (pins === undefined) continue;
      for (const [pin, byPriority] of pins) {
        const dueBy = pin === null || pin === host ? nowMs : overdueBy;
        for (const [priority, heap] of byPriority) candidates.push({ heap, priority, dueBy });
      }
    }
    return candidates;
  }

  /** Takes the next due job off the candidates' heaps (by priority, runAt, then creation), if any. */
  takeNext(candidates: readonly Candidate[], nowMs: number): StoredJob | undefined {
    let bestHeap: MinHeap<ReadyEntry> | undefined;
    let best: ReadyEntry | undefined;
    let bestPriority = 0;
    for (const { heap, priority, dueBy } of candidates) {
      const entry = validTop(heap, nowMs);
      if (entry === undefined || entry.runAt > dueBy) continue;
      if (
        best === undefined ||
        priority > bestPriority ||
        (priority === bestPriority && byRunAtThenCreation(entry, best))
      ) {
        bestHeap = heap;
        best = entry;
        bestPriority = priority;
      }
    }
    if (best === undefined) return undefined;
    bestHeap!.pop();
    return best.job;
  }
}

/** Drops stale entries off the top of a ready heap and returns the first live one. */
function validTop(heap: MinHeap<ReadyEntry>, nowMs: number): ReadyEntry | undefined {
  for (;;) {
    const top = heap.peek();
    if (!top) return undefined;
    const job = top.job;
    const live =
      job.seq === top.seq &&
      (isClaimableStatus(job.status) ||
        (job.status === 'processing' && job.lease !== null && job.lease.expiresAt.getTime() <= nowMs));
    if (live) return top;
    heap.pop();
  }
}
