import type { ClientBase, CustomTypesConfig, Pool, QueryResultRow } from 'pg';
import { DatabaseUnavailableError, describeFailure } from './errors.js';
import { isTransientError, transientDelayMs, type ResolvedTransientRetry } from './transient.js';

/** Type "parsers" that leave every column as the text the server sent. */
const TEXT_TYPES = { getTypeParser: () => (text: string) => text } as unknown as CustomTypesConfig;

/** One named SQL statement. The name makes pg prepare it once per connection and reuse the plan. */
export interface Statement {
  name: string;
  text: string;
}

/**
 * Values for a statement. A function is told whether this run is a retry after a transient error:
 * a statement that may have committed before its connection dropped can then accept its own earlier
 * write as success (see record-outcomes.ts).
 */
export type Values = readonly unknown[] | ((retrying: boolean) => readonly unknown[]);

/**
 * The store's only way to the database: runs named statements on the pool, retrying transient
 * failures with bounded backoff, and turning everything else into an error that names the operation.
 */
export class Database {
  private readonly closing = new AbortController();

  constructor(
    readonly pool: Pool,
    readonly schema: string,
    private readonly retry: ResolvedTransientRetry,
  ) {}

  /**
   * Runs `stmt` on a pooled connection. Each try takes whichever connection the pool gives, so after
   * a dropped connection the next try is on a fresh one. Only use for statements that are safe to run
   * twice (every store statement is: ids are made by the client and writes are fenced).
   */
  run<R extends QueryResultRow>(operation: string, stmt: Statement, values: Values): Promise<R[]> {
    return this.retrying(operation, values, async (params) => (await this.pool.query<R>({ name: stmt.name, text: stmt.text, values: params })).rows);
  }

  /**
   * As `run`, but each row comes back as an array of the columns' text (NULL as null), untouched by
   * pg's type parsers: for the hot path, which parses exactly what it needs (see toClaimedJob).
   */
  runText(operation: string, stmt: Statement, values: Values): Promise<(string | null)[][]> {
    return this.retrying(operation, values, async (params) => {
      const result = await this.pool.query<(string | null)[]>({ name: stmt.name, text: stmt.text, values: params, rowMode: 'array', types: TEXT_TYPES });
      return result.rows;
    });
  }

  private async retrying<T>(operation: string, values: Values, query: (params: unknown[]) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      if (this.closing.signal.aborted) throw new DatabaseUnavailableError(operation, attempt - 1, new Error('the store is closed'));
      const params = typeof values === 'function' ? values(attempt > 1) : values;
      try {
        return await query(params as unknown[]);
      } catch (err) {
        if (!isTransientError(err)) throw describeFailure(operation, this.schema, err);
        if (attempt >= this.retry.maxAttempts) throw new DatabaseUnavailableError(operation, attempt, err);
        await this.sleep(transientDelayMs(this.retry, attempt));
      }
    }
  }

  /**
   * Runs `stmt` on the caller's client (their transaction), once: a failure inside a transaction
   * aborts it, so retrying here could not help; the caller retries the whole transaction.
   */
  async runOn<R extends QueryResultRow>(client: ClientBase, operation: string, stmt: Statement, values: readonly unknown[]): Promise<R[]> {
    try {
      const result = await client.query<R>({ name: stmt.name, text: stmt.text, values: values as unknown[] });
      return result.rows;
    } catch (err) {
      throw isTransientError(err) ? new DatabaseUnavailableError(operation, 1, err) : describeFailure(operation, this.schema, err);
    }
  }

  /** Stops retry loops that are waiting: they fail at once instead of outliving the store. */
  close(): void {
    this.closing.abort();
  }

  private sleep(ms: number): Promise<void> {
    const signal = this.closing.signal;
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
