/**
 * A set of "jobs may be available in this queue" listeners, told in turn. A listener's failure is
 * its own: the write it reports on has already happened, so a throwing listener neither stops the
 * others nor reaches the writer.
 */
export class QueueListeners {
  private readonly listeners = new Set<(queue: string) => void>();

  get size(): number {
    return this.listeners.size;
  }

  /** Adds a listener; returns its unsubscribe function. */
  add(listener: (queue: string) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Tells every listener about every queue. */
  notify(queues: Iterable<string>): void {
    if (this.listeners.size === 0) return;
    for (const q of queues) {
      for (const listener of this.listeners) {
        try {
          listener(q);
        } catch {
          /* ignored by design: see the class comment */
        }
      }
    }
  }

  clear(): void {
    this.listeners.clear();
  }
}
