import { existsSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { toStoreError } from './errors.js';
import { decodeComponent, encodeComponent } from './layout.js';
import { parseName } from './job-names.js';
import type { StoreContext } from './store-context.js';

/** How often, and how long apart, a new queue's ready/ is looked for (it is made just after its queue directory). */
const READY_TRIES = 5;
const READY_RETRY_MS = 50;

/**
 * Wake-ups for jobs other processes make available: an `fs.watch` (inotify on Linux) on every
 * queue's ready/ directory, and one on queues/ for queues made later. A rename into ready/ (an
 * enqueue, a release at shutdown, a retry, a requeue) then wakes this process's waiters at once
 * instead of at their next poll. A claim's rename *out of* ready/ raises the same event, so an event
 * wakes only if its name is (still) there: claims do not wake claimers.
 *
 * Best effort by design: watches are not persistent (they never keep the process alive), and when
 * one cannot be made or fails (inotify limits, a network file system) that is reported as
 * 'watch-failed' and polling, which always stays on, finds the jobs.
 */
export class ReadyWatcher {
  private readonly watchers = new Map<string, FSWatcher>();
  private root: FSWatcher | null = null;
  private readonly due = new Set<string>();
  private flushing = false;
  private closed = false;

  constructor(
    private readonly ctx: StoreContext,
    private readonly wake: (queue: string) => void,
  ) {}

  async start(): Promise<void> {
    if (this.closed) return;
    this.ctx.claimedFromReady = new Set();
    const dir = this.ctx.layout.queues;
    try {
      this.root = watch(dir, { persistent: false }, (_event, name) => {
        if (name !== null) this.onQueueEntry(name.toString());
      });
      this.root.on('error', (err) => this.failed(dir, err));
    } catch (err) {
      this.failed(dir, err);
      return;
    }
    for (const queue of await this.ctx.listQueues()) this.watchQueue(queue, READY_TRIES);
  }

  close(): void {
    this.closed = true;
    this.ctx.claimedFromReady = null;
    this.root?.close();
    this.root = null;
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }

  private onQueueEntry(name: string): void {
    let queue: string;
    try {
      queue = decodeComponent(name);
    } catch {
      return;
    }
    if (encodeComponent(queue) === name) this.watchQueue(queue, READY_TRIES);
  }

  private watchQueue(queue: string, tries: number): void {
    if (this.closed || this.watchers.has(queue)) return;
    const dir = this.ctx.layout.stateDir(queue, 'ready');
    let w: FSWatcher;
    try {
      w = watch(dir, { persistent: false }, (_event, name) =>
        this.onReady(queue, dir, name === null ? null : name.toString()),
      );
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && tries > 1) {
        setTimeout(() => this.watchQueue(queue, tries - 1), READY_RETRY_MS).unref();
      } else if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.failed(dir, err);
      }
      return;
    }
    w.on('error', (err) => {
      w.close();
      this.watchers.delete(queue);
      this.failed(dir, err);
    });
    this.watchers.set(queue, w);
    this.schedule(queue); // whatever arrived before the watch began
  }

  private onReady(queue: string, dir: string, name: string | null): void {
    if (name === null) {
      this.schedule(queue);
      return;
    }
    if (this.ctx.claimedFromReady?.delete(`${queue}/${name}`)) return; // our own claim took it
    if (!parseName('ready', name)) return; // not a job file
    // A claim of another store object (or process) raises one of these events per job it takes: a
    // lookup of a name in the dentry cache is a few microseconds done here, where a trip through the
    // thread pool (often busy with fsyncs) costs more than the claim's own rename of that job.
    // (existsSync, as it does not build an error for the usual answer.)
    if (existsSync(join(dir, name))) this.schedule(queue); // else moved out again (claimed): nothing arrived
  }

  /** Wakes once per queue per turn of the event loop, however many files arrived. */
  private schedule(queue: string): void {
    this.due.add(queue);
    if (this.flushing) return;
    this.flushing = true;
    setImmediate(() => {
      this.flushing = false;
      const queues = [...this.due];
      this.due.clear();
      if (!this.closed) for (const q of queues) this.wake(q);
    });
  }

  private failed(path: string, err: unknown): void {
    const error = toStoreError(this.ctx.layout.root, 'watch', err);
    this.ctx.problems.report(
      'watch-failed',
      path,
      `cannot watch ${path} for new jobs (${error.message}); polling finds them instead`,
      error,
    );
  }
}
