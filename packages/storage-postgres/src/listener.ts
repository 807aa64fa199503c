import type { ClientConfig } from 'pg';
import pg from 'pg';
import { backgroundError } from './errors.js';

type Listener = (queue: string) => void;

/** Where the LISTEN connection is. */
type ListenState =
  /** No subscriber: no connection is held. */
  | 'idle'
  /** Connecting, or waiting to reconnect after the connection dropped. */
  | 'connecting'
  /** LISTEN is active: notifications arrive. */
  | 'listening'
  /** Closed with the store; never reconnects. */
  | 'closed';

/**
 * After the last `waitForJob` watcher leaves, the connection stays open this long: a caller that
 * waits for its jobs one after another would otherwise open a connection and LISTEN for each.
 */
const WATCH_LINGER_MS = 10_000;

/**
 * Holds one dedicated connection (outside the pool, so it never starves the pool and the pool's
 * idle reaping never drops it) that LISTENs on the schema's two channels: the jobs channel, telling
 * subscribers which queue got jobs, and the finished channel, whose payloads are ids (joined by
 * commas) of jobs someone waits on that became final, waking the `waitForJob` watchers of those ids.
 *
 * The connection is opened with the first subscriber or watcher and closed with the last (after a
 * short linger when that was a watcher). When it drops
 * (server restart, pg_terminate_backend, network), it reconnects with a capped backoff and, once
 * listening again, wakes every subscriber for every queue it has heard of, and every watcher:
 * notifications sent while it was away are lost, and a spurious wake-up costs one empty claim or
 * one re-read of a job. Polling (the executor's, waitForJob's) stays the fallback for everything
 * this misses.
 */
export class JobsAvailableListener {
  private readonly subscribers = new Set<Listener>();
  private readonly watchers = new Map<string, Set<() => void>>();
  private lingerTimer: NodeJS.Timeout | undefined;
  private readonly knownQueues = new Set<string>();
  private state: ListenState = 'idle';
  private client: pg.Client | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly config: ClientConfig,
    private readonly channel: string,
    private readonly finishedChannel: string,
    private readonly onError: (err: Error) => void,
  ) {}

  subscribe(listener: Listener): () => void {
    if (this.state === 'closed') return () => undefined;
    this.subscribers.add(listener);
    this.wanted();
    return () => {
      this.subscribers.delete(listener);
      this.unwanted(false);
    };
  }

  /** Calls `wake` whenever the finished channel names job `id`, until the returned function is called. */
  watchFinished(id: string, wake: () => void): () => void {
    if (this.state === 'closed') return () => undefined;
    let set = this.watchers.get(id);
    if (!set) this.watchers.set(id, (set = new Set()));
    set.add(wake);
    this.wanted();
    return () => {
      set.delete(wake);
      if (set.size === 0 && this.watchers.get(id) === set) this.watchers.delete(id);
      this.unwanted(true);
    };
  }

  private wanted(): void {
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    if (this.state === 'idle') this.connect();
  }

  /** After an unsubscribe: disconnects when nobody needs the connection any more. */
  private unwanted(linger: boolean): void {
    if (this.subscribers.size > 0 || this.watchers.size > 0 || this.state === 'closed' || this.state === 'idle') return;
    // disconnect() reports its own failures to onBackgroundError and never rejects
    if (!linger) {
      void this.disconnect('idle');
      return;
    }
    if (this.lingerTimer) return;
    this.lingerTimer = setTimeout(() => {
      this.lingerTimer = undefined;
      if (this.subscribers.size === 0 && this.watchers.size === 0 && this.state !== 'closed')
        void this.disconnect('idle');
    }, WATCH_LINGER_MS);
    // A lingering connection must not keep the process alive.
    this.lingerTimer.unref();
  }

  /** Resolves once LISTEN is active (at once if it is); for startup checks and tests. */
  whenListening(): Promise<void> {
    if (this.state === 'listening' || this.state === 'closed') return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  get current(): ListenState {
    return this.state;
  }

  async close(): Promise<void> {
    this.subscribers.clear();
    this.watchers.clear();
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    await this.disconnect('closed');
    for (const w of this.waiters.splice(0)) w();
  }

  private connect(): void {
    this.state = 'connecting';
    const client = new pg.Client(this.config);
    this.client = client;
    let dropped = false;
    const drop = (err?: Error) => {
      if (dropped || this.client !== client) return;
      dropped = true;
      this.client = undefined;
      client.removeAllListeners('notification');
      client.end().catch(() => undefined);
      if (err) this.onError(backgroundError('listen', 'LISTEN connection lost, reconnecting', err));
      this.scheduleReconnect();
    };
    // Errors after connect arrive as events; without a handler they would crash the process.
    client.on('error', (err) => drop(err));
    client.on('end', () => drop(new Error('connection ended')));
    client.on('notification', (msg) => {
      if (!msg.payload) return;
      if (msg.channel === this.channel) {
        this.knownQueues.add(msg.payload);
        this.tell(msg.payload);
      } else if (msg.channel === this.finishedChannel) {
        for (const id of msg.payload.split(',')) this.wakeWatchers(id);
      }
    });
    client
      .connect()
      .then(() =>
        client.query(
          `LISTEN ${pg.escapeIdentifier(this.channel)}; LISTEN ${pg.escapeIdentifier(this.finishedChannel)}`,
        ),
      )
      .then(() => {
        if (this.client !== client) return; // closed or replaced meanwhile
        const recovered = this.failures > 0;
        this.failures = 0;
        this.state = 'listening';
        for (const w of this.waiters.splice(0)) w();
        if (recovered) {
          for (const q of this.knownQueues) this.tell(q);
          for (const id of [...this.watchers.keys()]) this.wakeWatchers(id);
        }
      })
      .catch((err: unknown) => drop(err instanceof Error ? err : new Error(String(err))));
  }

  private scheduleReconnect(): void {
    if (this.state === 'closed' || this.state === 'idle') return;
    this.state = 'connecting';
    this.failures++;
    const delay = Math.min(5000, 100 * 2 ** Math.min(this.failures - 1, 6));
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.state === 'connecting' && (this.subscribers.size > 0 || this.watchers.size > 0)) this.connect();
    }, delay);
  }

  private async disconnect(next: 'idle' | 'closed'): Promise<void> {
    this.state = next;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const client = this.client;
    this.client = undefined;
    if (client) {
      client.removeAllListeners('notification');
      await client.end().catch(() => undefined);
    }
  }

  private wakeWatchers(id: string): void {
    const set = this.watchers.get(id);
    if (!set) return;
    for (const wake of [...set]) {
      try {
        wake();
      } catch (err) {
        this.onError(err instanceof Error ? err : new Error(String(err)));
      }
    }
  }

  private tell(queue: string): void {
    for (const s of this.subscribers) {
      try {
        s(queue);
      } catch (err) {
        // A subscriber's failure is its own; the others still hear about the queue.
        this.onError(err instanceof Error ? err : new Error(String(err)));
      }
    }
  }
}
