import type { ClaimedJob } from '@oddjob/core';
import type { ExecutorEventName, ExecutorEvents } from '@oddjob/executor-actors';
import { expect } from 'chai';
import { Histogram, Registry } from 'prom-client';
import { BucketHistogram } from '../src/histogram.js';
import { collectMetrics } from '../src/index.js';
import type { ExecutorEventSource } from '../src/events.js';

const BUCKETS = [0.001, 0.01, 0.1, 1, 10];
const VALUES = [0, 0.0005, 0.001, 0.002, 0.01, 0.05, 0.5, 0.5, 1, 9.99, 10, 11, 1e6];

/** Every line of a registry's text output, sorted: label order within a line is kept as written. */
async function lines(registry: Registry): Promise<string[]> {
  return (await registry.metrics()).split('\n').sort();
}

/** An event source the test fires by hand: the listeners the collector adds, called synchronously. */
function handSource(): ExecutorEventSource & { fire<K extends ExecutorEventName>(e: K, p: ExecutorEvents[K]): void } {
  const listeners = new Map<string, ((p: never) => void)[]>();
  return {
    on(event, listener) {
      listeners.set(event, [...(listeners.get(event) ?? []), listener]);
      return () => undefined;
    },
    fire(event, payload) {
      for (const l of listeners.get(event) ?? []) (l as (p: typeof payload) => void)(payload);
    },
  };
}

function claimed(id: string, at: number): ClaimedJob {
  return {
    id,
    queue: 'q',
    target: 't',
    method: 'run',
    attempts: 1,
    createdAt: new Date(at),
    runAt: new Date(at),
    metadata: {},
  } as unknown as ClaimedJob;
}

describe('@oddjob/metrics: the pre-aggregated histogram', () => {
  it("writes exactly the text prom-client's Histogram writes for the same observations", async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const a = new BucketHistogram('h_seconds', 'help text', ['queue', 'target'], BUCKETS, ours);
    const b = new Histogram({
      name: 'h_seconds',
      help: 'help text',
      labelNames: ['queue', 'target'],
      buckets: BUCKETS,
      registers: [theirs],
    });
    for (const [queue, target] of [
      ['q1', 't1'],
      ['q1', 't2'],
      ['q "2"', 'back\\slash'],
    ]) {
      const series = a.labels(queue, target);
      for (const v of VALUES) {
        series.observe(v);
        b.observe({ queue, target }, v);
      }
    }
    a.labels('never', 'observed'); // a series looked up but never observed is not written, as with prom-client
    expect(await lines(ours)).to.deep.equal(await lines(theirs));
    expect((await a.get()).values).to.deep.equal(
      (await b.get()).values.map(({ labels, value, metricName }) => ({ labels, value, metricName })),
    );

    ours.resetMetrics();
    theirs.resetMetrics();
    expect(await lines(ours)).to.deep.equal(await lines(theirs));
    a.labels('q1', 't1').observe(0.5);
    b.observe({ queue: 'q1', target: 't1' }, 0.5);
    expect(await lines(ours)).to.deep.equal(await lines(theirs));
  });

  it('counters handed over at each read add up across reads, and histograms keep every observation', async () => {
    let now = 1_000;
    const shell = handSource();
    const registry = collectMetrics({ shell, now: () => now });
    const run = (id: string, outcome: 'job:succeeded' | 'job:failed'): void => {
      const job = claimed(id, now - 500);
      shell.fire('job:started', { queue: 'q', job, worker: 0 });
      now += 20;
      if (outcome === 'job:succeeded') shell.fire('job:succeeded', { queue: 'q', job, durationMs: 20 });
      else shell.fire('job:failed', { queue: 'q', job, error: { name: 'Error', message: 'x' }, durationMs: 20 });
    };
    /** The first sample of `name` in the text output (every metric here has one series), or undefined. */
    const value = async (name: string): Promise<number | undefined> => {
      const line = (await registry.metrics()).split('\n').find((l) => l.startsWith(`${name}{`));
      return line === undefined ? undefined : Number(line.split(' ').pop());
    };
    run('1', 'job:succeeded');
    run('2', 'job:succeeded');
    expect(await value('oddjob_jobs_started_total')).to.equal(2);
    expect(await value('oddjob_jobs_failed_total')).to.equal(undefined); // no series before the first failure
    run('3', 'job:succeeded');
    run('4', 'job:failed');
    await registry.metrics(); // a scrape in between takes nothing away
    run('5', 'job:succeeded');
    expect(await value('oddjob_jobs_started_total')).to.equal(5);
    expect(await value('oddjob_jobs_succeeded_total')).to.equal(4);
    expect(await value('oddjob_jobs_failed_total')).to.equal(1);
    expect(await value('oddjob_job_run_duration_seconds_count')).to.equal(5);
    expect(await value('oddjob_job_run_duration_seconds_sum')).to.be.closeTo(5 * 0.02, 1e-9);
    expect(await value('oddjob_job_start_latency_seconds_sum')).to.be.closeTo(5 * 0.5, 1e-9);
  });
});
