import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import pg from 'pg';
import { JobRegistry, jobContext, type JobLogger } from '@oddjob/core';
import { JobExecutorShell, silentLogger } from '@oddjob/executor-actors';
import { PostgresJobStore } from '@oddjob/storage-postgres';
import { openTestStore } from '@oddjob/storage-postgres/testing';
import { PG_URL, adminPool, requirePostgres, uniqueSchema } from './pg.js';
import { sleep, waitFor } from './wait.js';

/** The URL of another database on the same server. */
function urlOf(database: string): string {
  const url = new URL(PG_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Keeps the tenant of every error logged, so the test can see which tenant's storage failed. */
function tenantErrorLogger(into: string[], bindings: Record<string, unknown> = {}): JobLogger {
  return {
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: (obj) => void into.push(String({ ...bindings, ...(obj as Record<string, unknown>) }.tenant)),
    child: (more) => tenantErrorLogger(into, { ...bindings, ...(more as Record<string, unknown>) }),
  };
}

describe('one executor, several PostgreSQL databases (tenants)', function () {
  let admin: pg.Pool;
  let database: string;
  const ran: { tenant: string | undefined; n: number }[] = [];
  const registry = new JobRegistry();
  let delayMs = 0;
  class TenantWork {
    async work(n: number) {
      ran.push({ tenant: jobContext().tenant, n });
      if (delayMs > 0) await sleep(delayMs);
    }
  }
  registry.register('vita-tenant-work', TenantWork);

  before(async function () {
    await requirePostgres(this);
    admin = adminPool();
    database = `oddjob_tenant_${randomBytes(5).toString('hex')}`;
    await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`);
  });
  after(async () => {
    if (!admin) return;
    await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(database)} WITH (FORCE)`);
    await admin.end();
  });
  beforeEach(() => {
    ran.length = 0;
    delayMs = 0;
  });

  it('names the tenant in the job context; a tenant whose database goes away does not stop the other', async () => {
    const a = await PostgresJobStore.open({
      connection: urlOf(database),
      schema: uniqueSchema('ten_a'),
      onBackgroundError: () => undefined,
    });
    const b = await openTestStore({ schema: uniqueSchema('ten_b') });
    const errorsOf: string[] = [];
    const shell = new JobExecutorShell({ tenants: { a, b: b.store }, registry, logger: tenantErrorLogger(errorsOf) });
    try {
      shell.startJobQueue('work', { workers: 2, pulseMs: 20 }); // for every tenant
      expect(shell.runningQueues().sort()).to.deep.equal(['a/work', 'b/work']);
      await a.adder({ registry }).addJob(TenantWork, (w) => w.work(1), { queue: 'work' });
      await b.store.adder({ registry }).addJob(TenantWork, (w) => w.work(2), { queue: 'work' });
      await waitFor('one job per tenant', () => ran.length === 2, { timeoutMs: 20_000 });
      expect(ran.map((r) => `${r.tenant}:${r.n}`).sort()).to.deep.equal(['a:1', 'b:2']);

      // Tenant a's database disappears under it.
      await admin.query(`DROP DATABASE ${pg.escapeIdentifier(database)} WITH (FORCE)`);
      const ids = await b.store.adder({ registry }).addJobs(
        Array.from({ length: 100 }, (_, i) => ({
          target: TenantWork,
          call: (w: TenantWork) => w.work(100 + i),
          options: { queue: 'work' },
        })),
      );
      await waitFor(
        'tenant b to run all its jobs',
        async () =>
          (await b.store.countJobs({ queue: 'work' })).find((c) => c.status === 'done')?.count === ids.length + 1,
        {
          timeoutMs: 30_000,
          status: () => `a is ${shell.queueState('work', 'a')}, b is ${shell.queueState('work', 'b')}`,
        },
      );
      // Tenant a's claims failed (it backs off on its own); tenant b never logged an error.
      await waitFor('tenant a to report its failing storage', () => errorsOf.includes('a'), { timeoutMs: 20_000 });
      expect(errorsOf.filter((t) => t !== 'a')).to.deep.equal([]);
      expect(shell.queueState('work', 'b')).to.equal('running');
      expect(ran.filter((r) => r.tenant === 'b')).to.have.length(101);
    } finally {
      await shell.shutdown({ timeoutMs: 1000 });
      await a.close().catch(() => undefined);
      await b.close();
      await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`);
    }
  });

  it('shares workers fairly: a small tenant finishes long before a big backlog drains', async () => {
    const a = await PostgresJobStore.open({
      connection: urlOf(database),
      schema: uniqueSchema('fair_a'),
      onBackgroundError: () => undefined,
    });
    const b = await openTestStore({ schema: uniqueSchema('fair_b') });
    delayMs = 2;
    const shell = new JobExecutorShell({ tenants: { a, b: b.store }, registry, logger: silentLogger });
    try {
      const addA = a.adder({ registry });
      for (let i = 0; i < 5; i++) {
        await addA.addJobs(
          Array.from({ length: 1000 }, (_, j) => ({
            target: TenantWork,
            call: (w: TenantWork) => w.work(i * 1000 + j),
            options: { queue: 'work' },
          })),
        );
      }
      await b.store.adder({ registry }).addJobs(
        Array.from({ length: 50 }, (_, j) => ({
          target: TenantWork,
          call: (w: TenantWork) => w.work(j),
          options: { queue: 'work' },
        })),
      );
      shell.startJobQueue('work', { workers: 2, pulseMs: 20 });
      await waitFor('all of tenant b', () => ran.filter((r) => r.tenant === 'b').length === 50, { timeoutMs: 60_000 });
      const aDone = ran.filter((r) => r.tenant === 'a').length;
      expect(aDone, 'tenant a jobs run by the time b finished').to.be.below(2500);
    } finally {
      await shell.shutdown({ timeoutMs: 1000 });
      await a.close();
      await b.close();
    }
  });
});
