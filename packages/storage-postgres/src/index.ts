export { PostgresJobStore } from './store.js';
export { PostgresJobQueueAdder } from './adder.js';
export { migrate, checkSchemaVersion, type MigrationResult } from './migrate.js';
export { LATEST_SCHEMA_VERSION, MIGRATIONS, type Migration } from './migrations/index.js';
export { DEFAULT_SCHEMA, type PostgresStoreOptions, type RetentionOptions } from './options.js';
export {
  isTransientError,
  RETRYABLE_SQLSTATES,
  RETRYABLE_NODE_CODES,
  type TransientRetryOptions,
} from './transient.js';
export { DatabaseUnavailableError, PostgresStoreError } from './errors.js';
export { channelName } from './sql/context.js';
