import type sql from 'mssql';
import type { BuiltStatement } from './statements.js';
import { StatementRunner } from './runner.js';
import { toStorageError } from './transient.js';

/**
 * The store's runner: the statement runner, with every failure mapped into core's storage error
 * family at this one door (named after the statement), so no raw mssql error reaches a caller. The
 * driver's error stays as `cause`, where the duplicate-key and transient checks still find it.
 */
export class MappedStatementRunner extends StatementRunner {
  override async run<R>(statement: BuiltStatement, tx?: sql.Transaction): Promise<sql.IResult<R>> {
    try {
      return await super.run<R>(statement, tx);
    } catch (err) {
      throw toStorageError(statement.name, err);
    }
  }

  override async transaction<T>(work: (tx: sql.Transaction) => Promise<T>): Promise<T> {
    try {
      return await super.transaction(work);
    } catch (err) {
      throw toStorageError('transaction', err);
    }
  }
}
