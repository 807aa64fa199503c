import type { ClientConfig } from 'pg';
import pg from 'pg';

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
 * Holds one dedicated connection (outside the pool, so it never starves the pool and the pool's
 * idle reaping never drops it) that LISTENs on the schema's channel and tells subscribers which
 * queue got jobs.
 *
 * The connection is opened with the first subscriber and closed with the last. When it drops
 * (server restart, pg_terminate_backend, network), it reconnects with a capped backoff and, once
 * listening again, wakes every subscriber for every queue it has heard of: notifications sent while
 * it was away are lost, and a spurious wake-up costs one empty claim. Polling by the executor stays
 * the fallback for everything this misses.
 */
export class JobsAvailableListener {
  private readonly subscribers = new Set<Listener>();
  private readonly knownQueues = new Set<string>();
  private state: ListenState = 'idle';
  private client: pg.Client | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly config: ClientConfig,
    private readonly channel: string,
    private readonly onError: (err: Error) => void,
  ) {}

  subscribe(listener: Listener): () => void {
    if (this.state === 'closed') return () => undefined;
    this.subscribers.add(listener);
    if (this.state === 'idle') this.connect();
    return () => {
      this.subscribers.delete(listener);
      if (this.subscribers.size === 0 && this.state !== 'closed') this.disconnect('idle');
    };
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
      if (err) this.onError(new Error(`LISTEN connection lost, reconnecting: ${err.message}`, { cause: err }));
      this.scheduleReconnect();
    };
    // Errors after connect arrive as events; without a handler they would crash the process.
    client.on('error', (err) => drop(err));
    client.on('end', () => drop(new Error('connection ended')));
    client.on('notification', (msg) => {
      if (msg.channel !== this.channel || !msg.payload) return;
      this.knownQueues.add(msg.payload);
      this.tell(msg.payload);
    });
    client
      .connect()
      .then(() => client.query(`LISTEN ${pg.escapeIdentifier(this.channel)}`))
      .then(() => {
        if (this.client !== client) return; // closed or replaced meanwhile
        const recovered = this.failures > 0;
        this.failures = 0;
        this.state = 'listening';
        for (const w of this.waiters.splice(0)) w();
        if (recovered) for (const q of this.knownQueues) this.tell(q);
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
      if (this.state === 'connecting' && this.subscribers.size > 0) this.connect();
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
