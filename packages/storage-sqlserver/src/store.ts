import sql from 'mssql';
import type { ContractHarness } from '@oddjob/core/testing';
import { SqlServerJobQueueAdmin } from './admin.js';
import { connectionFactory, type IJobQueueDbConnectionFactory } from './connection.js';
import type { SqlServerContext } from './context.js';
import { schemaNames, type SchemaNames } from './identifiers.js';
import { SqlServerJobQueueManager } from './manager.js';
import { applyMigrations, verifySchemaVersion } from './migrate.js';
import { resolveOptions, type SqlServerStoreOptions } from './options.js';
import { StatementRunner } from './runner.js';
import { SqlServerScheduleStore } from './schedule-store.js';
import { corruptJobArgs, dropSchema } from './statements.js';
import { SqlServerJobQueueAdder, SqlServerJobWriter } from './writer.js';

/**
 * The SQL Server store, assembled: open it once per process and hand its parts to whoever needs them
 * (the adder to the application, the manager and schedules to the executor, the admin to dashboards).
 *
 *   const store = await SqlServerJobStore.open({ connection: process.env.DATABASE_URL!, schema: 'jobs' });
 *   await store.adder().addJob(EmailJob, (j) => j.send('a@b.c', 'hi'));
 */
export class SqlServerJobStore {
  readonly writer: SqlServerJobWriter;
  readonly manager: SqlServerJobQueueManager;
  readonly admin: SqlServerJobQueueAdmin;
  readonly schedules: SqlServerScheduleStore;
  readonly names: SchemaNames;

  private constructor(
    private readonly ctx: SqlServerContext,
    private readonly connections: IJobQueueDbConnectionFactory,
    private readonly options: SqlServerStoreOptions,
  ) {
    this.names = ctx.names;
    this.writer = new SqlServerJobWriter(ctx);
    this.manager = new SqlServerJobQueueManager(ctx);
    this.admin = new SqlServerJobQueueAdmin(ctx);
    this.schedules = new SqlServerScheduleStore(ctx);
  }

  /** Validates the options, connects, and applies (or verifies) the schema's migrations. */
  static async open(options: SqlServerStoreOptions): Promise<SqlServerJobStore> {
    const resolved = resolveOptions(options);
    const connections = connectionFactory(options.connection, resolved.pool);
    const runner = new StatementRunner(connections, resolved.retry, resolved.clock);
    const ctx: SqlServerContext = { names: schemaNames(resolved.schema), runner };
    try {
      if (resolved.migrations === 'apply') await applyMigrations(runner, ctx.names);
      else await verifySchemaVersion(runner, ctx.names);
    } catch (err) {
      await connections.close().catch(() => undefined);
      throw err;
    }
    return new SqlServerJobStore(ctx, connections, options);
  }

  /** An adder writing to this store; `addJob(..., { tx })` enlists in your mssql Transaction. */
  adder(): SqlServerJobQueueAdder {
    return new SqlServerJobQueueAdder(this.writer, { registry: this.options.registry, clock: this.options.clock });
  }

  /** The pool the store uses, e.g. to begin a Transaction to enqueue in. */
  pool(): Promise<sql.ConnectionPool> {
    return this.connections.getPool();
  }

  /** Drops the store's tables and schema. For tests and uninstalling; the data is gone. */
  async dropSchema(): Promise<void> {
    await this.ctx.runner.run(dropSchema(this.names));
  }

  /** Closes the pool if the store created it. */
  async close(): Promise<void> {
    await this.connections.close();
  }

  /**
   * The contract suite's harness: this store plus a way to corrupt a job's arguments; closing drops
   * the schema and closes the pool.
   */
  harness(): ContractHarness {
    return {
      writer: this.writer,
      manager: this.manager,
      admin: this.admin,
      schedules: this.schedules,
      corruptJobArgs: async (id) => {
        await this.ctx.runner.run(corruptJobArgs(this.names, id));
      },
      close: async () => {
        try {
          await this.dropSchema();
        } finally {
          await this.close();
        }
      },
    };
  }
}
