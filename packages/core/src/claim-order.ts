/** What the claim order reads of a job: its runAt (a Date, or epoch milliseconds) and its id. */
export interface ClaimOrdered {
  runAt: Date | number;
  id: string;
}

/**
 * The claim order every store answers in: runAt first, then id (creation; ids are time-ordered).
 * SQL stores get rows back in no promised order (OUTPUT, RETURNING), so they sort with this; the
 * file store sorts its candidates (runAt read from file names, as milliseconds) with it too.
 */
export function byRunAtThenId(a: ClaimOrdered, b: ClaimOrdered): number {
  const d = +a.runAt - +b.runAt;
  return d !== 0 ? d : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * The claim order with priorities (flow.ts): priority first, higher before lower, then
 * byRunAtThenId. Every store sorts its claimed batch (or, the file store, its candidates) with it.
 */
export function byClaimOrder(a: ClaimOrdered & { priority: number }, b: ClaimOrdered & { priority: number }): number {
  return b.priority - a.priority || byRunAtThenId(a, b);
}
