import { checkOutcomes, InvalidOptionError, rounds, type JobOutcome, type LeaseCheck } from '@oddjob/core';
import type { Database } from './db.js';
import { errorJson } from './rows.js';
import type { Statements } from './sql/index.js';
import { isUuid } from './uuid.js';

/** What outcome recording needs from the store. */
export interface OutcomeOps {
  db: Database;
  sql: Statements;
  now(): Date | null;
  notify: boolean;
  deleteDoneJobs: boolean;
  onBackgroundError(err: Error): void;
}

/**
 * Recording outcomes, apart from the claim (claim-ops.ts): the lean all-done statement or the mixed
 * one, one outcome per job per round (core's rounds), each fenced by its lease token.
 */
export async function recordOutcomes(c: OutcomeOps, outcomes: readonly JobOutcome[]): Promise<LeaseCheck[]> {
  checkOutcomes(outcomes);
  outcomes.forEach((o, i) => {
    // Serialized results are JSON, which never holds a raw U+0000, but PostgreSQL text cannot store one: say so, not "invalid byte sequence".
    if (o.kind === 'done' && typeof o.result === 'string' && o.result.includes('\u0000')) {
      throw new InvalidOptionError(
        `outcomes[${i}].result`,
        'must not contain the character U+0000, which PostgreSQL text cannot store',
      );
    }
  });
  const results: LeaseCheck[] = outcomes.map(() => 'lease-lost');
  // Leases this store never issued (not UUID-shaped) cannot match: they stay lease-lost unsent.
  const pending: number[] = [];
  // The outcomes of one claim share its token (one per claim): each run of equal tokens is checked once.
  let checkedToken: string | undefined;
  outcomes.forEach((o, i) => {
    if (!o.lease || !isUuid(o.lease.jobId)) return;
    const token = o.lease.token;
    if (token !== checkedToken) {
      if (!isUuid(token)) return;
      checkedToken = token;
    }
    pending.push(i);
  });
  const released = new Set<string>();
  // One statement applies one outcome per job; a job named twice goes to a second round, which
  // then sees the first round's write (as the memory store would, applying them in order).
  for (const r of rounds(pending, (i) => outcomes[i].lease.jobId)) {
    const round = r.map((p) => p.item);
    // Log lines need an INSERT; the lean done statement has none, so a round carrying any goes mixed.
    const allDone = round.every((i) => outcomes[i].kind === 'done' && (outcomes[i].logs?.length ?? 0) === 0);
    if (allDone) {
      const missed = await recordDone(c, outcomes, round);
      for (const i of round) if (missed === null || !missed.has(outcomes[i].lease.jobId)) results[i] = 'ok';
    } else {
      const applied = await recordMixed(c, outcomes, round, released);
      for (const i of round) if (applied.has(outcomes[i].lease.jobId)) results[i] = 'ok';
    }
  }
  if (released.size > 0 && c.notify) {
    // Jobs given back at shutdown are claimable now: wake other executors. A hint only, so a
    // failure here is reported, not thrown (the outcomes are already stored).
    await c.db
      .run('notify released', c.sql.notifyQueues, [[...released]])
      .catch((err: Error) => c.onBackgroundError(err));
  }
  return results;
}

/**
 * A round of only `done` outcomes: the lean statement (sql/record-done.ts). Returns the ids it did
 * not apply, or null when it applied every one (the usual case: then nothing is looked up).
 */
async function recordDone(
  c: OutcomeOps,
  outcomes: readonly JobOutcome[],
  round: readonly number[],
): Promise<Set<string> | null> {
  const ids = round.map((i) => outcomes[i].lease.jobId).join(',');
  const tokens = round.map((i) => outcomes[i].lease.token).join(',');
  const results = resultsJson(round.map((i) => outcomes[i]));
  const rows = await c.db.run<{ missed: string | null }>('record job outcomes', c.sql.recordDone, (retrying) => [
    c.now(),
    ids,
    tokens,
    retrying,
    c.deleteDoneJobs,
    results,
    c.notify,
  ]);
  const missed = rows[0]?.missed;
  return missed ? new Set(missed.split(',')) : null;
}

/** A round with any kind of outcome (sql/record-outcomes.ts). Returns the applied ids. */
async function recordMixed(
  c: OutcomeOps,
  outcomes: readonly JobOutcome[],
  round: readonly number[],
  released: Set<string>,
): Promise<Set<string>> {
  const os = round.map((i) => outcomes[i]);
  const arrays = [
    os.map((o) => o.lease.jobId),
    os.map((o) => o.lease.token),
    os.map((o) => o.kind),
    os.map((o) => (o.kind === 'retry' || o.kind === 'failed' ? errorJson(o.error) : null)),
    os.map((o) => (o.kind === 'retry' ? o.runAt : null)),
  ];
  const rows = await c.db.run<{ id: string; queue: string; kind: string }>(
    'record job outcomes',
    c.sql.recordOutcomes,
    (retrying) => [
      c.now(),
      ...arrays,
      retrying,
      c.deleteDoneJobs,
      resultsJson(os),
      logsJson(os),
      os.map((o) => (o.logs?.length ?? 0) > 0),
      c.notify,
    ],
  );
  for (const r of rows) if (r.kind === 'released') released.add(r.queue);
  return new Set(rows.map((r) => r.id));
}

/**
 * The done outcomes' results as one JSON array of texts or nulls, in outcome order; null when no
 * outcome has one (the usual case), so nothing is built or sent for it.
 */
function resultsJson(os: readonly JobOutcome[]): string | null {
  const results = os.map((o) => (o.kind === 'done' ? (o.result ?? null) : null));
  return results.some((r) => r !== null) ? JSON.stringify(results) : null;
}

/** The outcomes' log lines as one JSON array of {id, n, at, level, message}, n their order; null if none. */
function logsJson(os: readonly JobOutcome[]): string | null {
  const lines: { id: string; n: number; at: string; level: string; message: string }[] = [];
  for (const o of os) {
    for (const l of o.logs ?? [])
      lines.push({ id: o.lease.jobId, n: lines.length, at: l.at.toISOString(), level: l.level, message: l.message });
  }
  return lines.length === 0 ? null : JSON.stringify(lines);
}
