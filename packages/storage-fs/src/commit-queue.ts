/**
 * Group commit: one flush (an fsync) made durable for every operation that asked before it started.
 *
 * The file store makes a rename durable by fsyncing the directory it changed. Done per operation,
 * that is one fsync each, and the disk's fsync rate caps the store. But an fsync of a directory
 * covers every change made to it before the fsync began, so concurrent operations can share one:
 * the first request starts a flush at once (no timer, so an idle store pays no added delay), and
 * every request that arrives while it runs waits for the next flush, which all of them share. A
 * request is never answered by a flush that was already running when it asked: that flush may have
 * begun before the caller's change, and so may not cover it. Under load N requests cost about two
 * flushes, whatever N.
 *
 * It is its own module, with the flush injected, so that this rule — no acknowledgement before a
 * covering flush has completed — can be tested without a disk.
 */
export class CommitQueue {
  /** The flush running now, if any. */
  private running: Promise<void> | undefined;
  /** The flush that starts when `running` ends, shared by everyone who asked meanwhile. */
  private next: Promise<void> | undefined;

  constructor(private readonly flush: () => Promise<void>) {}

  /**
   * Resolves once a flush that started after this call has completed (so it covers every change the
   * caller made before calling); rejects with that flush's error if it fails. A failed flush does not
   * stop the queue: the next request starts a new one.
   */
  commit(): Promise<void> {
    if (this.running === undefined) return this.start();
    this.next ??= this.running
      .catch(() => undefined)
      .then(() => {
        this.next = undefined;
        return this.start();
      });
    return this.next;
  }

  /** Resolves when no flush is running or waiting (never rejects); for close(). */
  async settled(): Promise<void> {
    while (this.running !== undefined || this.next !== undefined) {
      await (this.next ?? this.running)?.catch(() => undefined);
    }
  }

  private start(): Promise<void> {
    let flushed: Promise<void>;
    try {
      flushed = this.flush();
    } catch (err) {
      flushed = Promise.reject(err); // a flush that throws at once fails like one that rejects
    }
    const run: Promise<void> = flushed.finally(() => {
      if (this.running === run) this.running = undefined;
    });
    this.running = run;
    return run;
  }
}
