import {
  InvalidOptionError,
  resolveMigrationMode,
  resolveRetention,
  type Clock,
  type JobLogger,
  type JobRegistry,
  type MigrationMode,
  type ResolvedRetention,
  type RetentionOptions,
} from '@oddjob/core';
import { validatePoolOptions, type ConnectionSetting, type PoolOptions } from './connection.js';
import { validateIdentifier } from './identifiers.js';
import { DEFAULT_RETRY, type RetryOptions } from './transient.js';

export interface SqlServerStoreOptions {
  /**
   * A connection string (`mssql://user:pass@host:1433/db?encrypt=true&trustServerCertificate=true` or
   * ADO style `Server=host,1433;Database=db;User Id=u;Password=p;Encrypt=true`), an mssql config
   * object, an mssql ConnectionPool you manage, or an IJobQueueDbConnectionFactory.
   */
  connection: ConnectionSetting;
  /** SQL schema holding the store's tables. Default "oddjob". Letters, digits, underscore; max 64. */
  schema?: string;
  /** tarn pool settings, for a pool the store creates (not for a pool or factory you hand in). */
  pool?: PoolOptions;
  /** When given, every "now" is this clock's time, bound as a parameter; else SYSUTCDATETIME(). */
  clock?: Clock;
  /** Retries of deadlocks (1205), lock time-outs (1222) and dropped connections. */
  retry?: RetryOptions;
  /**
   * On open: 'apply' (default) applies missing migrations under sp_getapplock; 'verify' only checks
   * the schema is at this library's version (for databases whose DBA runs the printed script).
   */
  migrations?: 'apply' | 'verify';
  /** Registry for the adder's typed form; core's default registry otherwise. */
  registry?: JobRegistry;
  /**
   * How long finished jobs are kept (core's RetentionOptions, the same on every store). Off by
   * default; with `intervalMs` a background timer purges them through purgeJobs.
   */
  retention?: RetentionOptions;
  /** Told about errors in background work (the retention timer); default console.warn. */
  onBackgroundError?: (err: Error) => void;
  /**
   * Where the store logs what it learns at connect (the engine: SQL Server at info, Babelfish as a
   * warning). Default: only the Babelfish warning, on stderr.
   */
  logger?: Pick<JobLogger, 'info' | 'warn'>;
}

export interface ResolvedOptions {
  schema: string;
  pool: PoolOptions;
  clock: Clock | undefined;
  retry: Required<RetryOptions>;
  migrations: MigrationMode;
  registry: JobRegistry | undefined;
  retention: ResolvedRetention;
  onBackgroundError: (err: Error) => void;
  logger: Pick<JobLogger, 'info' | 'warn'> | undefined;
}

const KNOWN = [
  'connection',
  'schema',
  'pool',
  'clock',
  'retry',
  'migrations',
  'registry',
  'retention',
  'onBackgroundError',
  'logger',
];

/** Checks every option, naming the first bad one; the connection itself is checked by the factory. */
export function resolveOptions(options: SqlServerStoreOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError(
      'options',
      'must be an object { connection, schema?, pool?, clock?, retry?, migrations? }',
    );
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN.includes(key)) throw new InvalidOptionError(key, `is not an option (known: ${KNOWN.join(', ')})`);
  }
  const schema = validateIdentifier('schema', options.schema ?? 'oddjob');
  const pool = validatePoolOptions(options.pool);
  if (options.clock !== undefined && (options.clock === null || typeof options.clock.now !== 'function')) {
    throw new InvalidOptionError('clock', 'must have a now() method');
  }
  const retry = { ...DEFAULT_RETRY, ...(options.retry ?? {}) };
  if (!Number.isInteger(retry.maxAttempts) || retry.maxAttempts < 1 || retry.maxAttempts > 100) {
    throw new InvalidOptionError(
      'retry.maxAttempts',
      `must be an integer from 1 to 100, got ${String(retry.maxAttempts)}`,
    );
  }
  for (const key of ['baseDelayMs', 'maxDelayMs'] as const) {
    const v = retry[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new InvalidOptionError(`retry.${key}`, `must be a finite number >= 0, got ${String(v)}`);
    }
  }
  const migrations = resolveMigrationMode(options.migrations);
  if (options.onBackgroundError !== undefined && typeof options.onBackgroundError !== 'function') {
    throw new InvalidOptionError('onBackgroundError', 'must be a function');
  }
  const logger = options.logger;
  if (
    logger !== undefined &&
    (logger === null || typeof logger.info !== 'function' || typeof logger.warn !== 'function')
  ) {
    throw new InvalidOptionError('logger', 'must have info() and warn() methods');
  }
  return {
    schema,
    pool,
    clock: options.clock,
    retry,
    migrations,
    registry: options.registry,
    retention: resolveRetention(options.retention),
    onBackgroundError: options.onBackgroundError ?? ((err) => console.warn(`[oddjob/sqlserver] ${err.message}`)),
    logger,
  };
}
