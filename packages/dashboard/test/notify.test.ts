import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MemoryJobStore, Retry, ScheduleManager } from '@oddjob/core';
import { NotificationWatcher, WebhookNotifier, type Notification } from '../src/index.js';
import { JobExecutorShell, silentLogger } from '@oddjob/executor-actors';
import { registry } from './fixtures.js';

/** A real HTTP receiver that answers the statuses it is told to, in order, then 200. */
async function receiver(
  statuses: number[],
): Promise<{ url: string; bodies: Array<Record<string, unknown>>; server: Server }> {
  const bodies: Array<Record<string, unknown>> = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      bodies.push(JSON.parse(text) as Record<string, unknown>);
      res.statusCode = statuses.shift() ?? 200;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, bodies, server };
}

const sample: Notification = {
  kind: 'schedule.missed',
  schedule: { name: 's', cron: '@daily', timeZone: 'UTC', nextFireAt: new Date(0).toISOString(), lateMs: 1 },
};

describe('webhook notifier', () => {
  it('retries 5xx and network errors with backoff, and stops at a 4xx', async () => {
    const r = await receiver([503, 500]);
    try {
      const started = Date.now();
      await new WebhookNotifier({ url: r.url, backoffMs: 50 }).send(sample);
      expect(r.bodies.map((b) => b.attempt)).to.deep.equal([1, 2, 3]);
      expect(Date.now() - started).to.be.at.least(140); // 50 + 100 ms of backoff
      const r4 = await receiver([400]);
      let gaveUp: Error | null = null;
      const err = await new WebhookNotifier({ url: r4.url, backoffMs: 10, onGiveUp: (_n, e) => (gaveUp = e) })
        .send(sample)
        .catch((e: Error) => e);
      expect((err as Error).name).to.equal('WebhookDeliveryError');
      expect(gaveUp).to.equal(err);
      expect(r4.bodies).to.have.length(1);
      r4.server.close();
    } finally {
      r.server.close();
    }
    const closed = await new WebhookNotifier({ url: 'http://127.0.0.1:1/none', attempts: 2, backoffMs: 10 })
      .send(sample)
      .catch((e: Error) => e);
    expect((closed as Error).message).to.contain('127.0.0.1:1');
    expect(() => new WebhookNotifier({ url: 'ftp://x' })).to.throw(/http\(s\) URL/);
  });

  it('the watcher posts each final failure and each missed schedule fire once', async () => {
    let offset = 0;
    const now = () => new Date(Date.now() + offset);
    const store = new MemoryJobStore();
    const schedules = new ScheduleManager({ store, writer: store, registry });
    const r = await receiver([]);
    const hook = new WebhookNotifier({ url: r.url, backoffMs: 10 });
    const watcher = new NotificationWatcher({
      admin: store,
      schedules,
      notify: (n) => hook.send(n),
      scheduleGraceMs: 60_000,
      now,
    });
    const shell = new JobExecutorShell({ manager: store, registry, logger: silentLogger });
    try {
      await watcher.check(); // primes: nothing has failed yet
      const id = await store
        .adder({ registry })
        .addJob({ target: 'flaky', method: 'fail', args: ['x'] }, { retry: Retry.none() });
      shell.startJobQueue('default', { workers: 1 });
      for (let i = 0; i < 200 && (await store.getJob(id))!.status !== 'failed'; i++)
        await new Promise((res) => setTimeout(res, 25));
      expect((await store.getJob(id))!.status).to.equal('failed');
      await schedules.create('hourly', { target: 'flaky', method: 'ok', args: [1, new Date(0)] }, { cron: '@hourly' });
      offset = 2 * 3600_000; // no scheduler ran: the fire time is over an hour late
      await watcher.check();
      await watcher.check(); // nothing new: no second post
      const kinds = r.bodies.map((b) => b.kind).sort();
      expect(kinds).to.deep.equal(['job.failed', 'schedule.missed']);
      const failed = r.bodies.find((b) => b.kind === 'job.failed') as {
        job: { id: string; error: { message: string } };
      };
      expect(failed.job.id).to.equal(id);
      expect(failed.job.error.message).to.equal('boom: x');
    } finally {
      await shell.shutdown();
      await watcher.stop();
      r.server.close();
    }
  });
});
