// The memory store's waiters per job, woken by every write that may make the job final. Kept apart
// from memory-store.ts because it is the store's side of wait.ts's FinishWatch contract, the same
// part the PostgreSQL store fills with LISTEN/NOTIFY, and has no state in common with the jobs.
export class FinishWatchers {
  private readonly byJob = new Map<string, Set<() => void>>();

  /** Calls `wake` on every later wake(jobId) until the returned function is called. */
  watch(jobId: string, wake: () => void): () => void {
    let set = this.byJob.get(jobId);
    if (!set) this.byJob.set(jobId, (set = new Set()));
    set.add(wake);
    return () => {
      set.delete(wake);
      if (set.size === 0) this.byJob.delete(jobId);
    };
  }

  wake(jobId: string): void {
    const set = this.byJob.get(jobId);
    if (set) for (const wake of [...set]) wake();
  }
}
