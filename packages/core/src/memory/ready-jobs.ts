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
 * A queue's ready jobs: unpinned ones in one heap, pinned ones in a heap per host, so a claim looks
 * at the tops of its own heaps and at the other hosts' tops only to see whether they are overdue
 * (their tops are their oldest), and never walks past jobs it may not take.
 */
interface QueueHeaps {
  open: MinHeap<ReadyEntry>;
  pinned: Map<string, MinHeap<ReadyEntry>>;
}

/** A heap a claim looks at, and the latest runAt (ms) it may take from it. */
export interface Candidate {
  heap: MinHeap<ReadyEntry>;
  dueBy: number;
}

/** The ready heaps of every queue, keyed by queue name. */
export class ReadyJobs {
  private readonly queues = new Map<string, QueueHeaps>();

  /** Puts the job in its ready heap; older entries of the same job become stale by its bumped seq. */
  add(job: StoredJob): void {
    job.seq += 1;
    let heaps = this.queues.get(job.queue);
    if (!heaps) this.queues.set(job.queue, (heaps = { open: new MinHeap(byRunAtThenCreation), pinned: new Map() }));
    let heap = heaps.open;
    if (job.pinnedHost !== null) {
      const pinned = heaps.pinned.get(job.pinnedHost);
      if (pinned) heap = pinned;
      else heaps.pinned.set(job.pinnedHost, (heap = new MinHeap(byRunAtThenCreation)));
    }
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
      const heaps = this.queues.get(queue);
      if (heaps === undefined) continue;
      candidates.push({ heap: heaps.open, dueBy: nowMs });
      for (const [pin, heap] of heaps.pinned) candidates.push({ heap, dueBy: pin === host ? nowMs : overdueBy });
    }
    return candidates;
  }

  /** Takes the earliest due job off the candidates' heaps (by runAt, then creation), if any is due. */
  takeNext(candidates: readonly Candidate[], nowMs: number): StoredJob | undefined {
    let bestHeap: MinHeap<ReadyEntry> | undefined;
    let best: ReadyEntry | undefined;
    for (const { heap, dueBy } of candidates) {
      const entry = validTop(heap, nowMs);
      if (entry !== undefined && entry.runAt <= dueBy && (best === undefined || byRunAtThenCreation(entry, best))) {
        bestHeap = heap;
        best = entry;
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
