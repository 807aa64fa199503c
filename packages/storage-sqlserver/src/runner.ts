import sql from 'mssql';
import type { Clock } from '@oddjob/core';
import type { IJobQueueDbConnectionFactory } from './connection.js';
import { T, type BuiltStatement } from './statements.js';
import { withRetry, type RetryOptions } from './transient.js';

/** Declares @now for a store without a Clock: the server's UTC time, at ms precision like the columns. */
export const NOW_DECLARATION = 'DECLARE @now datetime2(3) = SYSUTCDATETIME();\n';

/**
 * Binds a statement to a request: every parameter with its declared type, and @now from the clock
 * (or, without one, declared in the text as SYSUTCDATETIME()). Returns the text to run.
 */
export function bindStatement(request: sql.Request, statement: BuiltStatement, clock: Clock | undefined): string {
  for (const p of statement.params) request.input(p.name, p.type, p.value);
  if (!statement.usesNow) return statement.text;
  if (clock) {
    request.input('now', T.time, clock.now());
    return statement.text;
  }
  return NOW_DECLARATION + statement.text;
}

/**
 * Runs built statements: binds every parameter with its declared type, binds or declares @now, and
 * retries transient failures — but only when it owns the connection. Inside a caller's transaction a
 * failure is handed straight back (a deadlock victim's transaction is already rolled back; retrying
 * one statement of it would run that statement outside the caller's transaction).
 */
export class StatementRunner {
  constructor(
    readonly connections: IJobQueueDbConnectionFactory,
    readonly retry: Required<RetryOptions>,
    readonly clock: Clock | undefined,
  ) {}

  /** One try, on the given transaction or a pooled connection. */
  async once<R>(statement: BuiltStatement, tx?: sql.Transaction): Promise<sql.IResult<R>> {
    const request = tx ? new sql.Request(tx) : (await this.connections.getPool()).request();
    const text = bindStatement(request, statement, this.clock);
    return request.query<R>(text);
  }

  /** With retries when outside a caller's transaction. */
  run<R>(statement: BuiltStatement, tx?: sql.Transaction): Promise<sql.IResult<R>> {
    if (tx) return this.once<R>(statement, tx);
    return withRetry(this.retry, () => this.once<R>(statement));
  }

  /**
   * Runs `work` in a transaction of our own (begun, committed, rolled back on failure), retrying the
   * whole transaction on a transient error.
   */
  transaction<T>(work: (tx: sql.Transaction) => Promise<T>): Promise<T> {
    return withRetry(this.retry, async () => {
      const tx = new sql.Transaction(await this.connections.getPool());
      await tx.begin(sql.ISOLATION_LEVEL.READ_COMMITTED);
      try {
        const result = await work(tx);
        await tx.commit();
        return result;
      } catch (err) {
        await tx.rollback().catch(() => undefined); // already rolled back by the server (e.g. 1205): nothing to do
        throw err;
      }
    });
  }
}
