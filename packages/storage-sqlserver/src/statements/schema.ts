import type { SchemaNames } from '../identifiers.js';
import type { BuiltStatement } from './common.js';
// ---------------------------------------------------------------------------------------------
// Schema version

/** schemaVersion — why: OBJECT_ID first, so a database the store never touched answers 0, not an error. */
export function schemaVersion(n: SchemaNames): BuiltStatement {
  return {
    name: 'schemaVersion',
    usesNow: false,
    params: [],
    text: `
IF OBJECT_ID(N'${n.migrations}', N'U') IS NULL SELECT CAST(0 AS int) AS version
ELSE SELECT COALESCE(MAX(version), 0) AS version FROM ${n.migrations};`,
  };
}

/**
 * dropSchema — why: removes everything the store created (tests, uninstall). DROP ... IF EXISTS needs
 * SQL Server 2016+; tables go before the schema, which must be empty to be dropped, and the tables
 * that reference jobs go before it.
 */
export function dropSchema(n: SchemaNames): BuiltStatement {
  return {
    name: 'dropSchema',
    usesNow: false,
    params: [],
    text: `
DROP TABLE IF EXISTS ${n.dependencies};
DROP TABLE IF EXISTS ${n.runs};
DROP TABLE IF EXISTS ${n.logs};
DROP TABLE IF EXISTS ${n.executors};
DROP TABLE IF EXISTS ${n.jobs};
DROP TABLE IF EXISTS ${n.schedules};
DROP TABLE IF EXISTS ${n.migrations};
DROP SCHEMA IF EXISTS ${n.quotedSchema};`,
  };
}
