/**
 * Every T-SQL statement the store runs, one named builder per operation, each with a line on why it
 * is shaped so; split by concern under statements/ (enqueue, claim, leases and outcomes, runs,
 * logs, executors, admin, schedules, schema). Written against the SQL Server 2016+ documentation and checked against
 * Babelfish for PostgreSQL (see statements/common.ts for the rules every statement follows).
 * statements/flow.ts is not re-exported: it holds pieces of batches (the settle routine, key locks),
 * spliced by the builders here, not statements of their own.
 */
export * from './statements/common.js';
export * from './statements/enqueue.js';
export * from './statements/claim.js';
export * from './statements/leases.js';
export * from './statements/runs.js';
export * from './statements/logs.js';
export * from './statements/executors.js';
export * from './statements/admin.js';
export * from './statements/schedules.js';
export * from './statements/schema.js';
export * from './statements/attempted.js';
export * from './statements/flow-insert.js';
