import { StorageUnavailableError } from './storage-errors.js';

/** What one try of a keyed insert answered: per job id, the id it resolves to; and the jobs to try again. */
export interface KeyedInsertTry<J> {
  /** Job id -> the id to answer (its own, or its unique key's holder's). */
  answers: ReadonlyMap<string, string>;
  /** Jobs refused for a key whose holder was gone by the time it was looked up: the key is free again. */
  lost: readonly J[];
}

/**
 * The "unique-key holder was purged, try again" loop the SQL stores share. An insert refuses a job
 * whose unique key is held; the store then looks the holder up to answer its id. A purge between
 * the two statements leaves the job with neither a row nor a holder: its key is free again, so the
 * job is inserted once more. Each further round needs another purge to race the enqueue, so a few
 * tries are plenty; after `tries` the call fails as unavailable (transient: worth trying later).
 */
export async function retryWhileHolderVanishes<J extends { id: string; uniqueKey: string | null }>(
  jobs: readonly J[],
  attempt: (pending: readonly J[], tryNumber: number) => Promise<KeyedInsertTry<J>>,
  options: { tries: number; provider: string; operation: string },
): Promise<Map<string, string>> {
  const answers = new Map<string, string>();
  let pending = jobs;
  for (let n = 1; ; n++) {
    const result = await attempt(pending, n);
    for (const [id, answer] of result.answers) answers.set(id, answer);
    if (result.lost.length === 0) return answers;
    if (n >= options.tries) {
      const keys = result.lost.map((j) => j.uniqueKey).join(', ');
      throw new StorageUnavailableError(
        options.provider,
        options.operation,
        `could not write ${result.lost.length} job(s) (first ${result.lost[0].id}) after ${n} tries: their unique keys (${keys}) kept changing hands (purged while enqueued); enqueue again`,
      );
    }
    pending = result.lost;
  }
}
