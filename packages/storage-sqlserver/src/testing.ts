import type { ContractHarness } from '@oddjob/core/testing';
import { dropSchema as dropSchemaStatement } from './statements.js';
import { corruptJobArgs } from './testing-statements.js';
import type { SqlServerJobStore } from './store.js';

/**
 * Test helpers, kept out of the production classes: import them from
 * `@oddjob/storage-sqlserver/testing` (as `@oddjob/storage-postgres/testing`).
 */

/** Drops the store's tables and schema. For tests and uninstalling; the data is gone. */
export async function dropSchema(store: SqlServerJobStore): Promise<void> {
  await store.context.runner.run(dropSchemaStatement(store.names));
}

/**
 * The contract suite's harness: the store plus a way to corrupt a job's arguments; closing drops the
 * schema and closes the pool.
 */
export function sqlServerHarness(store: SqlServerJobStore): ContractHarness {
  return {
    writer: store,
    manager: store,
    admin: store,
    schedules: store,
    executors: store,
    corruptJobArgs: async (id) => {
      await store.context.runner.run(corruptJobArgs(store.names, id));
    },
    close: async () => {
      try {
        await dropSchema(store);
      } finally {
        await store.close();
      }
    },
  };
}
