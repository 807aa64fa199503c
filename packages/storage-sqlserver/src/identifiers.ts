import { InvalidOptionError } from '@oddjob/core';

/**
 * SQL identifiers (the schema name) cannot be bound as parameters, so they are the one thing spliced
 * into statement text. They are therefore held to a strict pattern — a letter or underscore, then
 * letters, digits or underscores, at most 64 characters (well under sysname's 128) — and always
 * bracket-quoted. The pattern admits no `]`, so the quoting can never be broken out of; it is
 * checked again where it is used (`quoteIdentifier`), not only where options are read.
 */
export const IDENTIFIER_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

export function validateIdentifier(option: string, name: unknown): string {
  if (typeof name !== 'string' || !IDENTIFIER_PATTERN.test(name)) {
    throw new InvalidOptionError(
      option,
      `${JSON.stringify(name)} is not an allowed SQL Server identifier: use 1-64 letters, digits or underscores, not starting with a digit (${IDENTIFIER_PATTERN})`,
    );
  }
  return name;
}

/** `[name]`, after checking the name again. */
export function quoteIdentifier(name: string): string {
  return `[${validateIdentifier('identifier', name)}]`;
}

/** The names of everything the store creates in its schema, quoted and schema-qualified. */
export interface SchemaNames {
  /** The bare schema name, e.g. for sp_getapplock's resource and SCHEMA_ID(). */
  schema: string;
  /** `[schema]` */
  quotedSchema: string;
  /** `[schema].[jobs]` */
  jobs: string;
  /** `[schema].[schedules]` */
  schedules: string;
  /** `[schema].[migrations]`: the ledger of applied migrations. */
  migrations: string;
  /** `[schema].[job_runs]`: ended attempts (migration 2). */
  runs: string;
  /** `[schema].[job_logs]`: log lines of running and ended attempts (migration 2). */
  logs: string;
  /** `[schema].[executors]`: the executor registry (migration 2). */
  executors: string;
  /** `[schema].[job_dependencies]`: a waiting child's parents and their outcomes (migration 4). */
  dependencies: string;
}

export function schemaNames(schema: string): SchemaNames {
  const s = quoteIdentifier(schema);
  return {
    schema,
    quotedSchema: s,
    jobs: `${s}.[jobs]`,
    schedules: `${s}.[schedules]`,
    migrations: `${s}.[migrations]`,
    runs: `${s}.[job_runs]`,
    logs: `${s}.[job_logs]`,
    executors: `${s}.[executors]`,
    dependencies: `${s}.[job_dependencies]`,
  };
}
