import type { ClientBase, CustomTypesConfig, Pool, QueryResultRow } from 'pg';
import { OddJobError, withInfraRetry, type InfraRetryFailure } from '@oddjob/core';
import { DatabaseUnavailableError, describeFailure } from './errors.js';
import { isTransientError, type ResolvedTransientRetry } from './transient.js';

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
    return this.retrying(
      operation,
      values,
      async (params) => (await this.pool.query<R>({ name: stmt.name, text: stmt.text, values: params })).rows,
    );
  }

  /**
   * As `run`, but each row comes back as an array of the columns' text (NULL as null), untouched by
   * pg's type parsers: for the hot path, which parses exactly what it needs (see toClaimedJob).
   */
  runText(operation: string, stmt: Statement, values: Values): Promise<(string | null)[][]> {
    return this.retrying(operation, values, async (params) => {
      const result = await this.pool.query<(string | null)[]>({
        name: stmt.name,
        text: stmt.text,
        values: params,
        rowMode: 'array',
        types: TEXT_TYPES,
      });
      return result.rows;
    });
  }

  /** Core's infrastructure retry, with PostgreSQL's table of transient errors; stopped by close(). */
  private retrying<T>(operation: string, values: Values, query: (params: unknown[]) => Promise<T>): Promise<T> {
    return withInfraRetry(
      this.retry,
      isTransientError,
      (attempt) => query((typeof values === 'function' ? values(attempt > 1) : values) as unknown[]),
      { signal: this.closing.signal, fail: (f) => failureOf(operation, this.schema, f) },
    );
  }

  /**
   * Runs `stmt` on the caller's client (their transaction), once: a failure inside a transaction
   * aborts it, so retrying here could not help; the caller retries the whole transaction.
   */
  async runOn<R extends QueryResultRow>(
    client: ClientBase,
    operation: string,
    stmt: Statement,
    values: readonly unknown[],
  ): Promise<R[]> {
    try {
      const result = await client.query<R>({ name: stmt.name, text: stmt.text, values: values as unknown[] });
      return result.rows;
    } catch (err) {
      throw isTransientError(err)
        ? new DatabaseUnavailableError(operation, 1, err)
        : describeFailure(operation, this.schema, err);
    }
  }

  /**
   * Runs `work` in a transaction of its own on one pooled connection (BEGIN, COMMIT; ROLLBACK on a
   * failure), retrying the whole transaction on a transient failure, on a fresh connection: work
   * must be safe to run again (ids made by the client, writes guarded by the row's state).
   * Statements inside run with `runOn`, whose transient failures arrive as DatabaseUnavailableError.
   */
  transaction<T>(operation: string, work: (client: ClientBase) => Promise<T>): Promise<T> {
    const transient = (err: unknown) => err instanceof DatabaseUnavailableError || isTransientError(err);
    return withInfraRetry(
      this.retry,
      transient,
      async () => {
        const client = await this.pool.connect();
        let broken: Error | undefined;
        try {
          await client.query('BEGIN');
          const result = await work(client);
          await client.query('COMMIT');
          return result;
        } catch (err) {
          await client.query('ROLLBACK').catch((e: unknown) => {
            broken = e instanceof Error ? e : new Error(String(e)); // a connection that cannot roll back is not reused
          });
          throw err;
        } finally {
          client.release(broken);
        }
      },
      {
        signal: this.closing.signal,
        fail: (f) => {
          if (f.aborted) return failureOf(operation, this.schema, f);
          if (f.error instanceof DatabaseUnavailableError)
            return new DatabaseUnavailableError(operation, f.attempts, f.error.cause);
          // Bad input and statements runOn already described leave as they are.
          if (f.error instanceof OddJobError) return f.error;
          return failureOf(operation, this.schema, f);
        },
      },
    );
  }

  /** Stops retry loops that are waiting: they fail at once instead of outliving the store. */
  close(): void {
    this.closing.abort();
  }
}

/** The error a retry loop ends with: unavailable (transient, or the store closed), else permanent. */
export function failureOf(operation: string, schema: string, f: InfraRetryFailure): Error {
  if (f.aborted)
    return new DatabaseUnavailableError(operation, f.attempts, new Error('the store is closed', { cause: f.error }));
  return f.transient
    ? new DatabaseUnavailableError(operation, f.attempts, f.error)
    : describeFailure(operation, schema, f.error);
}
