import { unreachable } from './unreachable.js';

/**
 * Where a coordinator's claim cycle is. One closed union instead of loose flags, so an impossible
 * combination (a backoff timer armed while a claim is out, a look-again with no claim out) cannot
 * be represented, and every move goes through `to()`, which refuses a transition the cycle does not
 * allow: a bug shows up as an error at the move, not as a wedged queue later.
 *
 *   idle ──ask──▶ claiming ──last answer──▶ idle (looksEmpty if one came back short)
 *                    │ ──ask (a second claim, claimsInFlight 2)──▶ claiming
 *                    │ ──transient failure of the last claim out──▶ backing-off ──timer──▶ idle
 *                    │ ──permanent failure──▶ failed
 *   any ──drain──▶ closed (claims still out are waited for: claiming ──last answer──▶ closed)
 *
 * How many claims are out is counted by the claim loop, not here: a claim asked before the queue
 * failed or stopped can still answer in 'failed' or 'closed', and its jobs must be given back.
 */
export type ClaimPhase =
  /** No claim out. `looksEmpty`: the last claim came back short; wait for a pulse or a wake-up. */
  | { kind: 'idle'; looksEmpty: boolean }
  /**
   * One or two claims are out. `lookAgain`: a wake-up came meanwhile; `short`: an answer already
   * back in this stretch brought fewer jobs than it asked for.
   */
  | { kind: 'claiming'; lookAgain: boolean; short: boolean }
  /** The last claim failed transiently; the timer sends 'retry-fetch' when the backoff has elapsed. */
  | { kind: 'backing-off'; timer: NodeJS.Timeout }
  /** A claim failed with a permanent storage error: no more claims. */
  | { kind: 'failed' }
  /** The queue is draining or stopped: no more claims. */
  | { kind: 'closed' };

export type ClaimPhaseKind = ClaimPhase['kind'];

const ALLOWED: Readonly<Record<ClaimPhaseKind, readonly ClaimPhaseKind[]>> = {
  idle: ['idle', 'claiming', 'closed'],
  claiming: ['claiming', 'idle', 'backing-off', 'failed', 'closed'],
  'backing-off': ['idle', 'closed'],
  failed: ['closed'],
  closed: ['closed'],
};

/** A transition the claim cycle does not allow: always a bug in the coordinator. */
export class ClaimCycleError extends Error {
  override name = 'ClaimCycleError';
}

export class ClaimCycle {
  private current: ClaimPhase = { kind: 'idle', looksEmpty: false };

  get phase(): ClaimPhase {
    return this.current;
  }

  /** Moves to `next`; throws ClaimCycleError for a transition the diagram above does not have. */
  to(next: ClaimPhase): void {
    if (!ALLOWED[this.current.kind].includes(next.kind)) {
      throw new ClaimCycleError(`claim cycle: ${this.current.kind} → ${next.kind} is not a transition`);
    }
    if (this.current.kind === 'backing-off' && next.kind !== 'backing-off') clearTimeout(this.current.timer);
    this.current = next;
  }

  /** A pulse or a wake-up says the queue may have work: forget that it looked empty. */
  mayHaveWork(): void {
    const p = this.current;
    switch (p.kind) {
      case 'idle':
        if (p.looksEmpty) this.current = { kind: 'idle', looksEmpty: false };
        return;
      case 'claiming':
        this.current = { ...p, lookAgain: true };
        return;
      case 'backing-off':
      case 'failed':
      case 'closed':
        return;
      default:
        return unreachable(p);
    }
  }

  /** Ends the cycle; a claim still out stays `claiming` until its answer arrives. */
  close(): void {
    if (this.current.kind !== 'claiming') this.to({ kind: 'closed' });
  }
}
