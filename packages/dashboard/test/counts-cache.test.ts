import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { MemoryJobStore, type JobCount } from '@oddjob/core';
import { CountsCache, type CountsPolicy } from '../src/counts-cache.js';
import { buildDashboard } from '../src/index.js';
import { auth, bearer, registry, TOKEN } from './fixtures.js';

/** A store whose count the test sets, that takes `delayMs` to answer and counts how often it was asked. */
class FakeCounts {
  calls = 0;
  total = 1;
  fail: Error | null = null;
  constructor(readonly delayMs: number) {}
  async countJobs(): Promise<JobCount[]> {
    this.calls++;
    const total = this.total;
    const fail = this.fail;
    if (this.delayMs > 0) await sleep(this.delayMs);
    if (fail !== null) throw fail;
    return [{ queue: 'q', status: 'new', count: total }];
  }
}

const totalOf = (s: { counts: JobCount[] }): number => s.counts.reduce((n, c) => n + c.count, 0);

describe('dashboard counts cache', () => {
  // An expensive count: the fake takes 40 ms against a 10 ms threshold, so it is reused for 20 x its
  // cost, at least 800 ms of the injected clock. The clock moves only when the test moves it.
  const policy: CountsPolicy = { cheapMs: 10, reuseFactor: 20, staleLimitMs: 60_000 };
  let clock: number;
  const now = (): number => clock;
  beforeEach(() => (clock = 1_000_000));

  it('reads a cheap count from the store every time, so small stores stay exact', async () => {
    const store = new FakeCounts(0);
    const cache = new CountsCache(store, { ...policy, cheapMs: 1_000 }, now);
    expect(totalOf(await cache.read())).to.equal(1);
    store.total = 2;
    expect(totalOf(await cache.read())).to.equal(2);
    expect(store.calls).to.equal(2);
  });

  it('reuses an expensive count within 20 times its cost, then serves it once more while reading anew', async () => {
    const store = new FakeCounts(40);
    const cache = new CountsCache(store, policy, now);
    const first = await cache.read();
    expect(first.costMs).to.be.at.least(30);
    store.total = 5;
    clock += 700; // within 20 x 40 ms
    expect(await cache.read()).to.equal(first);
    expect(store.calls).to.equal(1);

    clock += first.costMs * 20; // past the reuse window, well within the stale limit
    expect(await cache.read()).to.equal(first); // answered at once, from memory
    expect(store.calls).to.equal(2); // ... while the new read runs
    await sleep(100);
    expect(totalOf(await cache.read())).to.equal(5);
    expect(store.calls).to.equal(2);
  });

  it('waits for a new count once the kept one is older than the stale limit', async () => {
    const store = new FakeCounts(40);
    const cache = new CountsCache(store, policy, now);
    await cache.read();
    store.total = 7;
    clock += 60_001;
    expect(totalOf(await cache.read())).to.equal(7);
  });

  it('after invalidate() the next reader waits for a count that started after the change', async () => {
    const store = new FakeCounts(40);
    const cache = new CountsCache(store, policy, now);
    await cache.read();
    const before = cache.refresh(); // a read that began before the change
    store.total = 9;
    cache.invalidate();
    const after = await cache.read();
    expect(totalOf(after)).to.equal(9);
    expect(totalOf(await before)).to.equal(1);
    expect(totalOf(await cache.read())).to.equal(9); // the older read did not overwrite the newer
  });

  it('shares one store read among concurrent readers', async () => {
    const store = new FakeCounts(40);
    const cache = new CountsCache(store, policy, now);
    const all = await Promise.all([cache.read(), cache.read(), cache.refresh(), cache.read()]);
    expect(store.calls).to.equal(1);
    expect(new Set(all).size).to.equal(1);
  });

  it('keeps the old count when a background read fails, and tells a waiting reader the error', async () => {
    const store = new FakeCounts(40);
    const cache = new CountsCache(store, policy, now);
    const first = await cache.read();
    store.fail = new Error('database went away');
    clock += 5_000; // past the reuse window (20 x ~40 ms), within the stale limit
    expect(await cache.read()).to.equal(first);
    await sleep(100); // the background read fails
    clock += 60_001;
    let err: unknown;
    await cache.read().catch((e: unknown) => (err = e));
    expect((err as Error).message).to.equal('database went away');
    store.fail = null;
    expect(totalOf(await cache.read())).to.equal(1);
  });
});

describe('dashboard counts route over an expensive count', () => {
  let app: FastifyInstance;
  let store: MemoryJobStore;
  const h = bearer(TOKEN);
  beforeEach(async () => {
    store = new MemoryJobStore();
    // 200 ms a count: far over the 25 ms threshold, so it is reused for 4 s (20 x its cost).
    const slowCount = async (f?: { queue?: string }): Promise<JobCount[]> => {
      await sleep(200);
      return store.countJobs(f);
    };
    const slow = new Proxy(store, {
      get: (target, prop) => {
        if (prop === 'countJobs') return slowCount;
        const v: unknown = Reflect.get(target, prop, target);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    app = await buildDashboard({
      admin: slow,
      adder: store.adder({ registry }),
      registry,
      auth,
      throughput: false,
      logger: false,
    });
  });
  afterEach(() => app.close());

  type Counts = { counts: JobCount[]; asOf: string };
  const total = (c: Counts): number => c.counts.reduce((n, x) => n + x.count, 0);

  it('serves the kept count with its asOf, and shows a change made through the dashboard at once', async () => {
    const adder = store.adder({ registry });
    const id = await adder.addJob({ target: 'flaky', method: 'ok', args: [1, new Date(0)] }, { queue: 'q1' });
    const first = (await app.inject({ url: '/api/counts', headers: h })).json<Counts>();
    expect(total(first)).to.equal(1);
    expect(Number.isNaN(Date.parse(first.asOf))).to.equal(false);

    // Enqueued behind the dashboard's back: the kept count is served (the same asOf).
    await adder.addJob({ target: 'flaky', method: 'ok', args: [2, new Date(0)] }, { queue: 'q2' });
    const kept = (await app.inject({ url: '/api/counts', headers: h })).json<Counts>();
    expect(kept).to.deep.equal(first);
    // A queue filter is served from the same count.
    const q1 = (await app.inject({ url: '/api/counts?queue=q1', headers: h })).json<Counts>();
    expect(q1).to.deep.equal({ counts: [{ queue: 'q1', status: 'new', count: 1 }], asOf: first.asOf });

    // A change through the dashboard: the next count is read anew and shows both.
    expect((await app.inject({ method: 'POST', url: `/api/jobs/${id}/cancel`, headers: h })).statusCode).to.equal(200);
    const after = (await app.inject({ url: '/api/counts', headers: h })).json<Counts>();
    expect(after.counts).to.deep.include.members([
      { queue: 'q1', status: 'cancelled', count: 1 },
      { queue: 'q2', status: 'new', count: 1 },
    ]);
  });
});
