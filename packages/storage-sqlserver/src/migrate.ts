import sql from 'mssql';
import { StoreSetupError } from '@oddjob/core';
import type { SchemaNames } from './identifiers.js';
import {
  LATEST_VERSION,
  migrationBody,
  MIGRATION_LOCK_FAILED,
  MIGRATION_LOCK_TIMEOUT_MS,
  SCHEMA_TOO_NEW,
} from './migrations.js';
import type { StatementRunner } from './runner.js';
import { schemaVersion } from './statements.js';
import { errorNumbers } from './transient.js';

/**
 * The migration batch's own request time-out. mssql's default (config.requestTimeout, 15 s unless
 * set) is shorter than the applock wait, so a store opening while another process migrates would
 * time out (ETIMEOUT, retried as transient) instead of waiting for the lock, and a later migration
 * that builds an index on a large jobs table would be cancelled and rolled back at 15 s on every
 * try. So the batch gets the lock wait plus ten minutes for the DDL itself.
 */
export const MIGRATION_REQUEST_TIMEOUT_MS = MIGRATION_LOCK_TIMEOUT_MS + 600_000;

/** The request the migration batch runs on: on the transaction, with its own time-out. */
export function migrationRequest(tx: sql.Transaction): sql.Request {
  // mssql 12 takes per-request overrides as a second argument; @types/mssql does not declare it yet.
  const RequestWithOverrides = sql.Request as unknown as new (
    parent: sql.Transaction,
    overrides: { requestTimeout: number },
  ) => sql.Request;
  return new RequestWithOverrides(tx, { requestTimeout: MIGRATION_REQUEST_TIMEOUT_MS });
}

/**
 * Applies missing migrations: the migration batch runs in one transaction of our own (the applock it
 * takes is owned by that transaction and released by its commit or rollback). A deadlock or dropped
 * connection retries the whole transaction.
 */
export async function applyMigrations(runner: StatementRunner, names: SchemaNames): Promise<number> {
  try {
    await runner.transaction((tx) => migrationRequest(tx).batch(migrationBody(names)));
  } catch (err) {
    const numbers = errorNumbers(err);
    if (numbers.includes(SCHEMA_TOO_NEW)) {
      throw new StoreSetupError(
        `schema "${names.schema}" was migrated by a newer @oddjob/storage-sqlserver (this one knows up to version ${LATEST_VERSION}); refusing to use it`,
        { cause: err },
      );
    }
    if (numbers.includes(MIGRATION_LOCK_FAILED)) {
      throw new StoreSetupError(
        `another process held the migration lock on schema "${names.schema}" for over ${MIGRATION_LOCK_TIMEOUT_MS / 1000} s`,
        { cause: err },
      );
    }
    throw new StoreSetupError(`migrating schema "${names.schema}" failed: ${(err as Error).message}`, { cause: err });
  }
  return readSchemaVersion(runner, names);
}

export async function readSchemaVersion(runner: StatementRunner, names: SchemaNames): Promise<number> {
  const result = await runner.run<{ version: number }>(schemaVersion(names));
  return result.recordset?.[0]?.version ?? 0;
}

/** For 'verify' mode: the schema must be exactly at this library's version. */
export async function verifySchemaVersion(runner: StatementRunner, names: SchemaNames): Promise<void> {
  const version = await readSchemaVersion(runner, names);
  if (version > LATEST_VERSION) {
    throw new StoreSetupError(
      `schema "${names.schema}" is at version ${version}, newer than this library's ${LATEST_VERSION}; upgrade @oddjob/storage-sqlserver`,
    );
  }
  if (version < LATEST_VERSION) {
    throw new StoreSetupError(
      `schema "${names.schema}" is at version ${version}, this library needs ${LATEST_VERSION}: apply the migrations (print them with ` +
        `"npx oddjob-sqlserver-migrations --schema ${names.schema}") or open the store with migrations: 'apply'`,
    );
  }
}
