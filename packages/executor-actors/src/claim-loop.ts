// A coordinator's claims: when to ask, the fetch it sends, what an answer or a failure does to the
// claim cycle, and the backoff after a transient failure. Apart from coordinator.ts because asking
// for work is one concern and handing it to workers and recording outcomes are others; the
// coordinator still decides when to look (pulses, wake-ups, results) and what a permanent failure
// does to the queue.
import { isTransientStorageFailure, StorageError, type Clock, type JobLogger } from '@oddjob/core';
import type { ActorRef } from './actors.js';
import { Backoff } from './backoff.js';
import { ClaimCycle } from './claim-cycle.js';
import { unreachable } from './unreachable.js';
import type { QueueFailure } from './coordinator-types.js';
import type { CoordinatorMessage, LayerMessage } from './messages.js';
import type { ResolvedQueueOptions } from './options.js';

/** What `tryAsk` did: sent a claim, found no room, or had no reason (or no right) to ask now. */
export type AskResult = 'asked' | 'full' | 'not-now';

export class ClaimLoop {
  private readonly cycle = new ClaimCycle();
  private readonly backoff = new Backoff();
  private self!: ActorRef<CoordinatorMessage>;
  private layer!: ActorRef<LayerMessage>;

  constructor(
    private readonly options: ResolvedQueueOptions,
    private readonly clock: Clock,
    private readonly logger: JobLogger,
    private readonly queue: string,
  ) {}

  /** Called once by the coordinator's attach, before any claim. */
  attach(self: ActorRef<CoordinatorMessage>, layer: ActorRef<LayerMessage>): void {
    this.self = self;
    this.layer = layer;
  }

  /** Claims asked and not yet answered, and the jobs they asked for (room already spoken for). */
  private out = 0;
  private outLimit = 0;

  /** A claim is out (a drain waits for its answer), whatever phase the cycle is in. */
  get claiming(): boolean {
    return this.out > 0;
  }

  /** A pulse or a wake-up says the queue may have work. */
  mayHaveWork(): void {
    this.cycle.mayHaveWork();
  }

  /** The backoff timer fired: claims may be asked again. */
  retryDue(): void {
    if (this.cycle.phase.kind === 'backing-off') this.cycle.to({ kind: 'idle', looksEmpty: false });
  }

  /**
   * Asks for as many jobs as there is room for (at most capacity / claimsInFlight), if fewer claims
   * than claimsInFlight are out and the queue does not look empty. `held` is the jobs the
   * coordinator holds, `workers` its worker count.
   */
  tryAsk(held: number, workers: number, capacity: number): AskResult {
    const phase = this.cycle.phase;
    switch (phase.kind) {
      case 'idle':
        if (phase.looksEmpty) return 'not-now';
        break;
      case 'claiming':
        if (this.out >= this.options.claimsInFlight || phase.short) return 'not-now';
        break;
      case 'backing-off':
      case 'failed':
      case 'closed':
        return 'not-now';
      default:
        return unreachable(phase);
    }
    const room = capacity - held - this.outLimit;
    if (room <= 0) return 'full';
    const chunk = Math.ceil(capacity / this.options.claimsInFlight);
    // Claim in worthwhile batches. A claim costs a round trip plus a fixed statement overhead (a
    // third of a 500-job claim on PostgreSQL), so while more jobs are held than there are workers —
    // the workers have their next job in hand — wait until at least half a claim's share is free
    // instead of topping up a few jobs at a time. Measured with maxPending 500 on PostgreSQL: claims
    // averaged 233 jobs without this rule. With the default capacity (workers * 2) and one claim in
    // flight it means: claim when no more than `workers` jobs are held.
    if (held > workers && room < Math.ceil(chunk / 2)) return 'not-now';
    const limit = Math.min(room, chunk);
    this.out++;
    this.outLimit += limit;
    this.cycle.to({
      kind: 'claiming',
      lookAgain: phase.kind === 'claiming' && phase.lookAgain,
      short: false,
    });
    this.layer.tell({
      kind: 'fetch',
      request: {
        queues: [this.queue],
        limit,
        owner: this.options.owner,
        leaseMs: this.options.leaseMs,
        host: this.options.host,
        takeoverAfterMs: this.options.takeoverAfterMs,
      },
      askedAt: this.clock.now().getTime(),
      replyTo: this.self,
    });
    return 'asked';
  }

  /** A claim came back with `got` of the `asked` jobs; `open`: the queue still runs. */
  answered(got: number, asked: number, open: boolean): void {
    this.settle(asked);
    const phase = this.cycle.phase;
    switch (phase.kind) {
      case 'claiming': {
        this.backoff.reset();
        const short = phase.short || got < asked;
        if (this.out > 0) {
          this.cycle.to({ kind: 'claiming', lookAgain: phase.lookAgain, short });
          return;
        }
        // A short answer means the queue is (for now) empty: stop asking after every result until
        // a pulse or a wake-up. A full answer means there is likely more: ask again while there is room.
        this.cycle.to(open ? { kind: 'idle', looksEmpty: short && !phase.lookAgain } : { kind: 'closed' });
        return;
      }
      case 'failed':
      case 'closed':
        // Asked before the queue failed or stopped; the coordinator gives its jobs back.
        if (open) throw new Error(`oddjob: a claim answer for an open queue arrived in claim phase ${phase.kind}`);
        return;
      case 'idle':
      case 'backing-off':
        throw new Error(`oddjob: a claim answer arrived in claim phase ${phase.kind}`);
      default:
        return unreachable(phase);
    }
  }

  /**
   * A claim failed while the queue runs. A transient failure backs off once no other claim is out
   * (one still out may bring jobs; its answer ends the stretch) and returns null; a permanent one
   * ends the claims and returns what failed, for the coordinator to fail the queue with.
   */
  failed(error: unknown, asked: number): QueueFailure | null {
    this.settle(asked);
    if (this.cycle.phase.kind !== 'claiming') return null; // already failed by the other claim
    if (!isTransientStorageFailure(error)) {
      // A broken statement, a missing table, a permission: it would fail the same way forever, so
      // the queue says so once, loudly, instead of backing off in silence.
      const operation = error instanceof StorageError ? error.operation : 'claim';
      this.cycle.to({ kind: 'failed' });
      return { operation, error };
    }
    const delay = this.backoff.next();
    this.logger.error({ err: error, queue: this.queue, retryInMs: delay }, 'oddjob: claiming jobs failed; backing off');
    if (this.out > 0) return null;
    this.cycle.to({ kind: 'backing-off', timer: setTimeout(() => this.self.tell({ kind: 'retry-fetch' }), delay) });
    return null;
  }

  /** Draining: no more claims; claims still out stay out until their answers arrive. */
  close(): void {
    this.cycle.close();
  }

  /** Stopped: no more claims, whatever is out. */
  closeNow(): void {
    this.cycle.to({ kind: 'closed' });
  }

  /** A claim failed after the drain began: no more claims; any other claim out is still waited for. */
  failedWhileClosing(asked: number): void {
    this.settle(asked);
    this.cycle.to({ kind: 'closed' });
  }

  private settle(asked: number): void {
    if (this.out === 0) throw new Error('oddjob: a claim answer arrived with no claim out');
    this.out--;
    this.outLimit -= asked;
  }
}
