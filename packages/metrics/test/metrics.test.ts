import 'reflect-metadata';
import { get } from 'node:http';
import { JobRegistry, MemoryJobStore, Retry, job, type IJobQueueAdmin } from '@oddjob/core';
import { JobExecutorShell, silentLogger } from '@oddjob/executor-actors';
import { expect } from 'chai';
import { collectMetrics, countedAdder, dashboardMetrics, serveMetrics } from '../src/index.js';

const registry = new JobRegistry();

@job('metered', registry)
class Metered {
  async ok(ms: number): Promise<void> {
    await new Promise((r) => setTimeout(r, ms));
  }
  async bad(): Promise<void> {
    throw new Error('bad on purpose');
  }
}

/** The value of one sample in Prometheus text, or undefined. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const inner = /\{(.*)\}/.exec(line)?.[1] ?? '';
    const have = inner.split(',').filter(Boolean);
    if (want.every((w) => have.includes(w)) && have.length === want.length) return Number(line.split(' ').pop());
  }
  return undefined;
}

async function until(check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('@oddjob/metrics: Prometheus metrics from a real executor', function () {
  this.timeout(30_000);

  it('counts enqueued, started, succeeded, retried and failed jobs, with gauges and histograms, after real runs', async () => {
    const store = new MemoryJobStore();
    const shell = new JobExecutorShell({ store, registry, logger: silentLogger });
    const metrics = collectMetrics({ shell, admin: store, cacheMs: 0 });
    const adder = countedAdder(store.adder({ registry }), metrics, registry);
    try {
      const ids = await adder.addJobs(
        [1, 2, 3, 4, 5].map(() => ({ target: Metered, call: (m: Metered) => m.ok(5), options: { queue: 'work' } })),
      );
      const bad = await adder.addJob(Metered, (m) => m.bad(), { queue: 'work', retry: Retry.fixed(2, 0) });
      await adder.addJob({ target: 'metered', method: 'ok', args: [1] }, { queue: 'later', delayMs: 3_600_000 });
      await adder.addJob({ target: 'metered', method: 'ok', args: [1] }, { queue: 'later', delayMs: 3_600_000 });
      shell.startJobQueue('work', { workers: 3, pulseMs: 20 });
      await until(
        async () =>
          (await store.getJob(bad))?.status === 'failed' &&
          (await Promise.all(ids.map((id) => store.getJob(id)))).every((j) => j?.status === 'done'),
      );
      const text = await metrics.metrics();
      const wl = { queue: 'work', target: 'metered' };
      expect(sample(text, 'oddjob_jobs_enqueued_total', wl)).to.equal(6);
      expect(sample(text, 'oddjob_jobs_enqueued_total', { queue: 'later', target: 'metered' })).to.equal(2);
      expect(sample(text, 'oddjob_jobs_started_total', wl)).to.equal(7); // 5 ok + 2 attempts of bad
      expect(sample(text, 'oddjob_jobs_succeeded_total', wl)).to.equal(5);
      expect(sample(text, 'oddjob_jobs_retried_total', wl)).to.equal(1);
      expect(sample(text, 'oddjob_jobs_failed_total', wl)).to.equal(1);
      expect(sample(text, 'oddjob_job_run_duration_seconds_count', wl)).to.equal(7);
      // Five runs slept 5 ms each: the sum of durations cannot be below 25 ms.
      expect(sample(text, 'oddjob_job_run_duration_seconds_sum', wl)).to.be.at.least(0.025);
      expect(sample(text, 'oddjob_job_start_latency_seconds_count', { queue: 'work' })).to.equal(7);
      expect(sample(text, 'oddjob_jobs_waiting', { queue: 'later' })).to.equal(2);
      expect(sample(text, 'oddjob_jobs_running', { queue: 'work' })).to.equal(undefined);
      expect(sample(text, 'oddjob_oldest_waiting_job_age_seconds', { queue: 'later' })).to.equal(0); // not due for an hour
    } finally {
      await shell.shutdown();
    }
  });

  it('counts the executors registered in the store by state, stale ones apart', async () => {
    // The store's clock runs a minute behind while another executor heartbeats, then catches up:
    // that executor's last heartbeat is a minute old, so it counts as stale.
    let behindMs = 60_000;
    const store = new MemoryJobStore({ clock: { now: () => new Date(Date.now() - behindMs) } });
    await store.heartbeatExecutor({
      id: 'gone',
      host: 'h',
      pid: 1,
      version: '0.0.0',
      queues: [],
      startedAt: new Date(),
      state: 'running',
    });
    behindMs = 0;
    const shell = new JobExecutorShell({ store, registry, logger: silentLogger });
    const metrics = collectMetrics({ executors: store, cacheMs: 0 });
    try {
      await until(async () => (await store.listExecutors()).some((e) => e.id === shell.owner));
      const text = await metrics.metrics();
      expect(sample(text, 'oddjob_executors', { state: 'running' })).to.equal(1);
      expect(sample(text, 'oddjob_executors', { state: 'stale' })).to.equal(1);
      expect(sample(text, 'oddjob_executors', { state: 'stopping' })).to.equal(0);
    } finally {
      await shell.shutdown();
    }
  });

  it('reads the store once per cache interval however many scrapes come, and serves /metrics over HTTP', async () => {
    const store = new MemoryJobStore();
    let reads = 0;
    let now = 1_000_000;
    const admin: IJobQueueAdmin = new Proxy(store, {
      get(target, key, receiver) {
        if (key === 'countJobs') {
          return (...args: Parameters<MemoryJobStore['countJobs']>) => {
            reads++;
            return target.countJobs(...args);
          };
        }
        const v = Reflect.get(target, key, receiver) as unknown;
        return typeof v === 'function' ? (v.bind(target) as unknown) : v;
      },
    });
    await store.adder().addJob({ target: 'x', method: 'y', args: [] }, { queue: 'q' });
    const metrics = collectMetrics({ admin, cacheMs: 5000, now: () => now });
    const server = await serveMetrics(metrics, { port: 0 });
    try {
      const bodies = await Promise.all(
        Array.from(
          { length: 20 },
          () =>
            new Promise<string>((resolve, reject) =>
              get(server.url, (res) => {
                let body = '';
                res.on('data', (d: Buffer) => (body += d.toString()));
                res.on('end', () => resolve(body));
              }).on('error', reject),
            ),
        ),
      );
      expect(reads).to.equal(1);
      for (const b of bodies) expect(sample(b, 'oddjob_jobs_waiting', { queue: 'q' })).to.equal(1);
      now += 5000;
      await store.adder().addJob({ target: 'x', method: 'y', args: [] }, { queue: 'q' });
      const text = await metrics.metrics();
      expect(reads).to.equal(2);
      expect(sample(text, 'oddjob_jobs_waiting', { queue: 'q' })).to.equal(2);
      expect(sample(text, 'oddjob_oldest_waiting_job_age_seconds', { queue: 'q' })).to.be.a('number');
    } finally {
      await server.close();
    }
  });
});

describe('@oddjob/metrics: dashboardMetrics over one registry per tenant', function () {
  it('merges them at each scrape, every series keeping its tenant label', async function () {
    const [a, b] = [new MemoryJobStore(), new MemoryJobStore()];
    const registries = [a, b].map((store, i) => {
      const registry = collectMetrics({ admin: store });
      registry.setDefaultLabels({ tenant: i === 0 ? 'a' : 'b' });
      return registry;
    });
    await a.adder().addJob({ target: 't', method: 'm', args: [] }, { queue: 'qa' });
    await b
      .adder()
      .addJobs([1, 2].map((n) => ({ call: { target: 't', method: 'm', args: [n] }, options: { queue: 'qb' } })));
    const { contentType, body } = await dashboardMetrics(registries)();
    expect(contentType).to.contain('text/plain');
    const waiting = body.split('\n').filter((l) => l.startsWith('oddjob_jobs_waiting{'));
    expect(waiting).to.have.members([
      'oddjob_jobs_waiting{queue="qa",tenant="a"} 1',
      'oddjob_jobs_waiting{queue="qb",tenant="b"} 2',
    ]);
    await Promise.all([a.close(), b.close()]);
  });
});
