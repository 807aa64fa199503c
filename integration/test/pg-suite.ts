import { PostgresJobStore } from '@oddjob/storage-postgres';
import type pg from 'pg';
import { adminPool, dropSchema, PG_URL, requirePostgres, uniqueSchema } from './pg.js';
import { killAll, type WorkerProcess } from './workers.js';

/**
 * What a suite of worker processes on one PostgreSQL schema holds; the hooks that pgWorkerSuite
 * registers make sure that, whatever a test did, no worker outlives it and no schema is left.
 */
export interface PgWorkerSuite {
  admin: pg.Pool;
  workers: WorkerProcess[];
  /** The producer's store on the test's schema (set by `setUp`). */
  store: PostgresJobStore | null;
  schema: string | null;
  /** A fresh schema, migrated by the producer's store, with the `ran` table the workers write to. */
  setUp(label: string): Promise<PostgresJobStore>;
  /** Executions per job id, in the order they were logged in `ran`. */
  executions(): Promise<Map<string, string[]>>;
}

/** Registers before/after/afterEach hooks in the calling describe() and answers their state. */
export function pgWorkerSuite(): PgWorkerSuite {
  const t: PgWorkerSuite = {
    admin: null as unknown as pg.Pool, // set by the before hook, which skips the suite without PostgreSQL
    workers: [],
    store: null,
    schema: null,
    async setUp(label) {
      t.schema = uniqueSchema(label);
      t.store = await PostgresJobStore.open({
        connection: { connectionString: PG_URL, max: 2, application_name: 'oj-it-producer' },
        schema: t.schema,
        onBackgroundError: () => undefined,
      });
      // No primary key on purpose: a job that runs twice must be able to show up twice.
      await t.admin.query(
        `CREATE TABLE ${t.schema}.ran (job_id uuid NOT NULL, worker text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())`,
      );
      return t.store;
    },
    async executions() {
      const { rows } = await t.admin.query<{ job_id: string; worker: string }>(
        `SELECT job_id, worker FROM ${t.schema}.ran ORDER BY at`,
      );
      const byJob = new Map<string, string[]>();
      for (const r of rows) byJob.set(r.job_id, [...(byJob.get(r.job_id) ?? []), r.worker]);
      return byJob;
    },
  };
  before(async function () {
    await requirePostgres(this);
    t.admin = adminPool();
  });
  after(async function () {
    await (t.admin as pg.Pool | null)?.end();
  });
  afterEach(async function () {
    await killAll(t.workers);
    t.workers = [];
    await t.store?.close();
    t.store = null;
    if (t.schema !== null) await dropSchema(t.admin, t.schema);
    t.schema = null;
  });
  return t;
}
