/**
 * The listeners of `onJobsAvailable`, and the ready/ watch that serves them: the watch is made when
 * the first listener comes and closed when the last one leaves, so a store nobody listens to holds
 * no inotify watches. Apart from file-store.ts because it is a small lifecycle of its own.
 */
import { toStoreError } from './errors.js';
import type { StoreContext } from './store-context.js';
import { ReadyWatcher } from './watch.js';

export class WakeUps {
  private watcher: ReadyWatcher | null = null;
  private closed = false;

  /** `opened` resolves once the store's directory is checked (the watch needs its queues/). */
  constructor(
    private readonly ctx: StoreContext,
    private readonly opened: () => Promise<void>,
  ) {}

  add(listener: (queue: string) => void): () => void {
    const off = this.ctx.onJobsAvailable(listener);
    if (this.watcher === null && !this.closed) {
      const watcher = new ReadyWatcher(this.ctx, (queue) => this.ctx.notify([queue]));
      this.watcher = watcher;
      const dir = this.ctx.layout.root;
      this.opened()
        .then(() => watcher.start())
        .catch((err: unknown) => {
          const error = toStoreError(dir, 'watch', err);
          this.ctx.problems.report(
            'watch-failed',
            dir,
            `cannot watch ${dir} for new jobs (${error.message}); polling finds them instead`,
            error,
          );
        });
    }
    return () => {
      off();
      if (this.ctx.listenerCount === 0) this.stopWatching();
    };
  }

  close(): void {
    this.closed = true;
    this.stopWatching();
  }

  private stopWatching(): void {
    this.watcher?.close();
    this.watcher = null;
  }
}
