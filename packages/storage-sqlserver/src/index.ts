export { SqlServerJobStore } from './store.js';
export { SqlServerJobQueueAdder, SqlServerJobWriter, JOBS_PER_STATEMENT } from './writer.js';
export { SqlServerJobQueueManager } from './manager.js';
export { SqlServerJobQueueAdmin } from './admin.js';
export { SqlServerScheduleStore } from './schedule-store.js';
export { SqlServerExecutorRegistry } from './executors.js';
export type { SqlServerContext } from './context.js';
export { resolveOptions, type SqlServerStoreOptions } from './options.js';
export {
  MssqlPoolConnectionFactory,
  connectionFactory,
  validatePoolOptions,
  detectEngine,
  engineFromVersion,
  engineOf,
  EngineDetectionError,
  type SqlServerEngine,
  type ServerEngine,
  type IJobQueueDbConnectionFactory,
  type PoolOptions,
  type ConnectionSetting,
} from './connection.js';
export { parseConnectionString, redactConnectionString } from './connection-string.js';
export {
  validateIdentifier,
  quoteIdentifier,
  schemaNames,
  IDENTIFIER_PATTERN,
  type SchemaNames,
} from './identifiers.js';
export {
  MIGRATIONS,
  LATEST_VERSION,
  migrationScript,
  migrationBody,
  migrationChecksum,
  type Migration,
} from './migrations.js';
export { applyMigrations, verifySchemaVersion, readSchemaVersion } from './migrate.js';
export {
  isTransientError,
  isDuplicateKeyError,
  toStorageError,
  RETRIED_ERROR_NUMBERS,
  RETRIED_ERROR_CODES,
  PERMANENT_ERROR_HINTS,
  type RetryOptions,
} from './transient.js';
export { MappedStatementRunner } from './mapped-runner.js';
export { StatementRunner } from './runner.js';
