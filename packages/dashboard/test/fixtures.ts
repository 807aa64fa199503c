import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  jobContext,
  JobRegistry,
  MemoryJobStore,
  ScheduleManager,
  type IJobQueueAdder,
  type IJobQueueAdmin,
  type IJobQueueManager,
  type IScheduleStore,
  type IJobWriter,
} from '@oddjob/core';
import { FileJobStore } from '@oddjob/storage-fs';
import { openTestStore, requirePostgres } from '@oddjob/storage-postgres/testing';
import type { StartDashboardOptions } from '../src/index.js';

/** A target the tests enqueue, fail and retry; `flaky.fail` fails until `Flaky.healed` is set. */
export class Flaky {
  static healed = false;
  async fail(what: string): Promise<string> {
    if (!Flaky.healed) throw new Error(`boom: ${what}`);
    return 'ok';
  }
  async ok(n: number, when: Date): Promise<number> {
    return n + when.getTime() * 0;
  }
}

/**
 * A target that leaves what run history shows: log lines, progress with a message, a return value
 * that JSON alone cannot hold, and (`compute`) a first attempt that fails. `slow` waits at a gate the
 * test opens, so a test can look at a job while it runs.
 */
export class Reporter {
  private static gate: Promise<void> = Promise.resolve();

  /** Makes the next `slow` runs wait until the returned function is called. */
  static hold(): () => void {
    let open!: () => void;
    Reporter.gate = new Promise((r) => (open = r));
    return open;
  }

  async compute(label: string): Promise<{ label: string; when: Date; big: bigint }> {
    const ctx = jobContext();
    ctx.log('attempt', ctx.attempt, 'of', label);
    await ctx.reportProgress(50, `half of ${label}`);
    if (ctx.attempt === 1) throw new Error(`first attempt of ${label} fails`);
    ctx.logAt('warn', 'second attempt', label);
    return { label, when: new Date(0), big: 12345678901234567890n };
  }

  async slow(label: string): Promise<number> {
    const ctx = jobContext();
    ctx.log('waiting', label);
    await ctx.reportProgress(30, 'waiting at the gate');
    await Reporter.gate;
    ctx.log('released', label);
    return label.length;
  }
}

export const registry = new JobRegistry().register('flaky', Flaky).register('reporter', Reporter);

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface Fixture {
  name: string;
  admin: IJobQueueAdmin;
  adder: IJobQueueAdder<never>;
  manager: IJobQueueManager;
  schedules: ScheduleManager;
  close(): Promise<void>;
}

type Store = IJobQueueAdmin &
  IJobQueueManager &
  IScheduleStore &
  IJobWriter & { adder(o: { registry: JobRegistry }): IJobQueueAdder<never> };

function fixture(name: string, store: Store, close: () => Promise<void>): Fixture {
  return {
    name,
    admin: store,
    manager: store,
    adder: store.adder({ registry }),
    schedules: new ScheduleManager({ store, writer: store, registry }),
    close,
  };
}

/** The stores every API test runs against: memory, file system, PostgreSQL (skipped without it, unless CI). */
export const stores: Array<{ name: string; open(ctx: Mocha.Context): Promise<Fixture> }> = [
  {
    name: 'memory',
    open: async () => {
      const s = new MemoryJobStore();
      return fixture('memory', s, async () => undefined);
    },
  },
  {
    name: 'file',
    open: async () => {
      const dir = await mkdtemp(join(tmpdir(), 'oddjob-dash-'));
      const s = await FileJobStore.open({ dir, create: true });
      return fixture('file', s, async () => {
        await s.close();
        await rm(dir, { recursive: true, force: true });
      });
    },
  },
  {
    name: 'postgres',
    open: async (ctx) => {
      await requirePostgres(ctx);
      const t = await openTestStore();
      return fixture('postgres', t.store, () => t.close());
    },
  },
];

export const TOKEN = 'test-token-0123456789';
export const RO_TOKEN = 'readonly-token-0123456789';
export const auth = {
  bearer: [
    { token: TOKEN, user: 'alice' },
    { token: RO_TOKEN, user: 'reader', readOnly: true },
  ],
};
export const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

/**
 * A dashboard over a fixture's store, with the tests' registry and users and Fastify's logging off;
 * `extra` sets what a test varies (throughput, port).
 */
export function dashboardOptions(f: Fixture, extra: Partial<StartDashboardOptions> = {}): StartDashboardOptions {
  return { admin: f.admin, adder: f.adder, schedules: f.schedules, registry, auth, logger: false, ...extra };
}
