import { expect } from 'chai';
import { hostname } from 'node:os';
import type { FastifyInstance } from 'fastify';
import { deserializeResult, MemoryJobStore, Retry, type IJobQueueAdmin } from '@oddjob/core';
import { JobExecutorShell, silentLogger } from '@oddjob/executor-actors';
import type { executorView, jobDetail, logLineView, runView } from '../src/display.js';
import { buildDashboard, InsecureListenError, startDashboard } from '../src/index.js';
import {
  auth,
  bearer,
  dashboardOptions,
  Reporter,
  RO_TOKEN,
  registry,
  sleep,
  stores,
  TOKEN,
  type Fixture,
} from './fixtures.js';

const UNKNOWN = '00000000-0000-7000-8000-000000000000';

// Response bodies, typed by the functions that build them (dates already ISO strings there).
type JobView = ReturnType<typeof jobDetail> & { available: { runs: boolean; logs: boolean; result: boolean } };
type RunView = ReturnType<typeof runView>;
type LogsPage = { lines: Array<ReturnType<typeof logLineView>>; lastSeq: number; more: boolean; final: boolean };
type ResultView = { id: string; status: string; result: unknown; resultRaw: string | null; resultError: string | null };
type ExecutorsPage = { executors: Array<ReturnType<typeof executorView>> };
type ErrorBody = { error: string; message: string };
type Features = Record<string, unknown>;

/** The parts of the API's answers this test reads (`json<T>()` types what the route returned). */
interface JobPage {
  jobs: { id: string }[];
  next: string | null;
}
interface ScheduleBody {
  name: string;
  paused: boolean;
  cron: string;
  upcoming: unknown[];
}
interface OpenApiDoc {
  openapi: string;
  info: { title: unknown };
  paths: Record<string, Record<string, { responses: unknown }>>;
}

for (const s of stores) {
  describe(`dashboard API on the ${s.name} store`, function () {
    let f: Fixture;
    let app: FastifyInstance;
    const h = bearer(TOKEN);

    beforeEach(async function () {
      f = await s.open(this);
      app = await buildDashboard(dashboardOptions(f, { throughput: { intervalMs: 60_000 } }));
    });
    afterEach(async () => {
      await app?.close();
      await f?.close();
    });

    it('enqueues registered targets only, lists with keyset pages and filters, and shows a job', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) {
        const r = await app.inject({
          method: 'POST',
          url: '/api/jobs',
          headers: h,
          payload: {
            target: 'flaky',
            method: 'ok',
            args: [i, '2020-01-01'],
            queue: i % 2 ? 'odd' : 'even',
            metadata: { n: i },
          },
        });
        expect(r.statusCode, r.body).to.equal(201);
        ids.push(r.json<{ id: string }>().id);
      }
      const unknown = await app.inject({
        method: 'POST',
        url: '/api/jobs',
        headers: h,
        payload: { target: 'nope', method: 'x', args: [] },
      });
      expect(unknown.statusCode).to.equal(400);
      expect(unknown.json<ErrorBody>().message).to.contain('target "nope" is not registered');
      const badMethod = await app.inject({
        method: 'POST',
        url: '/api/jobs',
        headers: h,
        payload: { target: 'flaky', method: 'constructor', args: [] },
      });
      expect(badMethod.statusCode).to.equal(400);
      expect(badMethod.json<ErrorBody>().message).to.match(/constructor/);

      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const r: { statusCode: number; body: string; json<T>(): T } = await app.inject({
          url: `/api/jobs?limit=3${cursor ? `&cursor=${cursor}` : ''}`,
          headers: h,
        });
        expect(r.statusCode, r.body).to.equal(200);
        const page = r.json<JobPage>();
        seen.push(...page.jobs.map((j: { id: string }) => j.id));
        cursor = page.next;
        pages++;
        // A job deleted between pages must not make the next page skip or repeat anything.
        if (pages === 1) await f.admin.cancelJob(ids[0]);
      } while (cursor !== null);
      expect(seen).to.deep.equal(ids);
      expect(pages).to.equal(3);

      const odd = (await app.inject({ url: '/api/jobs?queue=odd', headers: h })).json<JobPage>();
      expect(odd.jobs.map((j: { id: string }) => j.id)).to.deep.equal([ids[1], ids[3], ids[5]]);
      const cancelled = (await app.inject({ url: '/api/jobs?status=cancelled', headers: h })).json<JobPage>();
      expect(cancelled.jobs.map((j: { id: string }) => j.id)).to.deep.equal([ids[0]]);
      const text = (await app.inject({ url: `/api/jobs?text=${ids[4].slice(-12)}`, headers: h })).json<JobPage>();
      expect(text.jobs.map((j: { id: string }) => j.id)).to.deep.equal([ids[4]]);
      expect((await app.inject({ url: '/api/jobs?status=bogus', headers: h })).statusCode).to.equal(400);
      expect((await app.inject({ url: '/api/jobs?cursor=garbage', headers: h })).statusCode).to.equal(400);

      const one = (await app.inject({ url: `/api/jobs/${ids[2]}`, headers: h })).json<JobView>();
      expect(one.args).to.deep.equal([2, '2020-01-01']);
      expect(one.metadata).to.deep.equal({ n: 2 });
      expect(
        (await app.inject({ url: '/api/jobs/00000000-0000-7000-8000-000000000000', headers: h })).statusCode,
      ).to.equal(404);
      // Never claimed: no runs yet, and no result.
      expect((await app.inject({ url: `/api/jobs/${ids[2]}/runs`, headers: h })).json<unknown>()).to.deep.equal({
        runs: [],
      });
      expect(one.runs).to.deep.equal([]);
      expect([one.result, one.resultRaw, one.startedAt, one.executorId, one.final]).to.deep.equal([
        null,
        null,
        null,
        null,
        false,
      ]);

      const counts = (await app.inject({ url: '/api/counts', headers: h })).json<{ counts: { count: number }[] }>()
        .counts;
      const total = counts.reduce((n, c) => n + c.count, 0);
      expect(total).to.equal(7);
    });

    it('cancels, retries, bulk-retries and purges', async () => {
      const a = await f.adder.addJob({ target: 'flaky', method: 'ok', args: [1, new Date(0)] });
      const b = await f.adder.addJob({ target: 'flaky', method: 'ok', args: [2, new Date(0)] });
      expect((await app.inject({ method: 'POST', url: `/api/jobs/${a}/cancel`, headers: h })).statusCode).to.equal(200);
      expect((await app.inject({ method: 'POST', url: `/api/jobs/${a}/cancel`, headers: h })).statusCode).to.equal(409);
      expect((await app.inject({ method: 'POST', url: `/api/jobs/${a}/retry`, headers: h })).statusCode).to.equal(200);
      expect((await f.admin.getJob(a))!.status).to.equal('new');
      const bulk = await app.inject({
        method: 'POST',
        url: '/api/jobs/bulk',
        headers: h,
        payload: { action: 'cancel', filter: { status: 'new' } },
      });
      expect(bulk.json()).to.deep.equal({ matched: 2, changed: 2, more: false });
      const back = await app.inject({
        method: 'POST',
        url: '/api/jobs/bulk',
        headers: h,
        payload: { action: 'retry', filter: { status: 'cancelled' }, max: 1 },
      });
      expect(back.json()).to.deep.equal({ matched: 1, changed: 1, more: true });
      const purge = await app.inject({
        method: 'POST',
        url: '/api/jobs/purge',
        headers: h,
        payload: { statuses: ['cancelled'] },
      });
      expect(purge.json()).to.deep.equal({ purged: 1 });
      expect([await f.admin.getJob(a), await f.admin.getJob(b)].filter((j) => j !== null)).to.have.length(1);
    });

    describe('with a real executor running jobs', () => {
      let shell: JobExecutorShell;
      const get = async <T>(url: string): Promise<T> => {
        const r = await app.inject({ url, headers: h });
        expect(r.statusCode, `${url}: ${r.body}`).to.equal(200);
        return r.json<T>();
      };
      beforeEach(() => {
        shell = new JobExecutorShell({ manager: f.manager, registry, logger: silentLogger });
        shell.startJobQueue('default', { workers: 2 });
      });
      afterEach(async () => shell?.shutdown());

      it('shows a job that failed once then returned: both runs, its log, progress with message and the decoded result', async () => {
        const id = await f.adder.addJob(
          { target: 'reporter', method: 'compute', args: ['sum'] },
          { retry: Retry.fixed(2, 10) },
        );
        await f.admin.waitForJob(id, { timeoutMs: 30_000 });
        const job = await get<JobView>(`/api/jobs/${id}`);
        const runs = job.runs!;
        expect(job.status).to.equal('done');
        expect(job.final).to.equal(true);
        expect(runs.map((r) => [r.attempt, r.state])).to.deep.equal([
          [1, 'retry'],
          [2, 'done'],
        ]);
        const [first, second] = runs;
        expect(first.error?.message).to.equal('first attempt of sum fails');
        expect(second.error).to.equal(null);
        for (const r of runs) {
          expect(r.executorId).to.equal(shell.owner);
          expect(r.host).to.equal(hostname());
          expect(r.durationMs).to.be.a('number').at.least(0);
          expect(Date.parse(r.finishedAt!)).to.be.at.least(Date.parse(r.startedAt));
          expect([r.progress, r.progressMessage]).to.deep.equal([50, 'half of sum']);
        }
        expect([job.progress, job.progressMessage]).to.deep.equal([50, 'half of sum']);
        expect([job.executorId, job.host, job.startedAt]).to.deep.equal([shell.owner, hostname(), second.startedAt]);
        const display = {
          label: 'sum',
          when: { $date: '1970-01-01T00:00:00.000Z' },
          big: { $bigint: '12345678901234567890' },
        };
        expect(job.result).to.deep.equal(display);
        expect(job.resultError).to.equal(null);
        // The raw form is the stored text: decoding it gives back the real Date and bigint.
        expect(deserializeResult(job.resultRaw, id)).to.deep.equal({
          label: 'sum',
          when: new Date(0),
          big: 12345678901234567890n,
        });
        expect(await get<ResultView>(`/api/jobs/${id}/result`)).to.deep.equal({
          id,
          status: 'done',
          result: display,
          resultRaw: job.resultRaw,
          resultError: null,
        });

        expect((await get<{ runs: RunView[] }>(`/api/jobs/${id}/runs`)).runs).to.deep.equal(runs);
        expect((await get<{ runs: RunView[] }>(`/api/jobs/${id}/runs?limit=1`)).runs).to.deep.equal([first]);
        expect((await get<{ runs: RunView[] }>(`/api/jobs/${id}/runs?limit=1&offset=1`)).runs).to.deep.equal([second]);
        expect((await get<{ runs: RunView[] }>(`/api/jobs/${id}/runs?offset=2`)).runs).to.deep.equal([]);

        const log = await get<LogsPage>(`/api/jobs/${id}/logs`);
        const lines = log.lines;
        expect(lines.map((l) => [l.attempt, l.level, l.message])).to.deep.equal([
          [1, 'info', 'attempt 1 of sum'],
          [2, 'info', 'attempt 2 of sum'],
          [2, 'warn', 'second attempt sum'],
        ]);
        expect([log.lastSeq, log.more, log.final]).to.deep.equal([lines[2].seq, false, true]);
        expect((await get<LogsPage>(`/api/jobs/${id}/logs?attempt=2`)).lines).to.deep.equal(lines.slice(1));
        const after = await get<LogsPage>(`/api/jobs/${id}/logs?afterSeq=${lines[0].seq}&limit=1`);
        expect([after.lines, after.lastSeq, after.more]).to.deep.equal([[lines[1]], lines[1].seq, true]);
        const end = await get<LogsPage>(`/api/jobs/${id}/logs?afterSeq=${log.lastSeq}`);
        expect([end.lines, end.lastSeq, end.more, end.final]).to.deep.equal([[], log.lastSeq, false, true]);
      });

      it('shows the host a job is pinned to, and the run that took it over once it was overdue', async () => {
        const overdue = { pinnedHost: 'elsewhere-host', runAt: new Date(Date.now() - 31 * 60_000) };
        // One ends done (its run read off the row), one fails on its only attempt (its run stored).
        const done = await f.adder.addJob({ target: 'reporter', method: 'slow', args: ['pinned'] }, overdue);
        const failed = await f.adder.addJob(
          { target: 'reporter', method: 'compute', args: ['pinned'] },
          { ...overdue, retry: Retry.fixed(1, 10) },
        );
        for (const [id, status] of [
          [done, 'done'],
          [failed, 'failed'],
        ]) {
          expect((await f.admin.waitForJob(id, { timeoutMs: 30_000 })).status).to.equal(status);
          const job = await get<JobView>(`/api/jobs/${id}`);
          expect(job.pinnedHost).to.equal('elsewhere-host');
          expect(job.runs!.map((r) => [r.state, r.takeover])).to.deep.equal([
            [status, { pinnedHost: 'elsewhere-host' }],
          ]);
          expect((await get<{ runs: RunView[] }>(`/api/jobs/${id}/runs`)).runs).to.deep.equal(job.runs);
        }
      });

      it('tails a running job: lines after afterSeq as they are written, progress with its message, final once nothing more can come', async () => {
        const open = Reporter.hold();
        const id = await f.adder.addJob({ target: 'reporter', method: 'slow', args: ['tail'] });
        let page: LogsPage = { lines: [], lastSeq: 0, more: false, final: false };
        for (let i = 0; i < 600 && page.lines.length === 0; i++) {
          page = await get<LogsPage>(`/api/jobs/${id}/logs?afterSeq=${page.lastSeq}`);
          if (page.lines.length === 0) await sleep(25);
        }
        expect(page.lines.map((l) => l.message)).to.deep.equal(['waiting tail']);
        expect(page.final).to.equal(false);
        let job = await get<JobView>(`/api/jobs/${id}`);
        for (let i = 0; i < 600 && job.progressMessage === null; i++) {
          await sleep(25);
          job = await get<JobView>(`/api/jobs/${id}`);
        }
        expect([job.status, job.final, job.progress, job.progressMessage]).to.deep.equal([
          'processing',
          false,
          30,
          'waiting at the gate',
        ]);
        expect(job.runs).to.have.length(1);
        const run = job.runs![0];
        expect([run.state, run.finishedAt, run.durationMs]).to.deep.equal(['running', null, null]);
        expect((await get<ResultView>(`/api/jobs/${id}/result`)).resultRaw).to.equal(null);
        open();
        await f.admin.waitForJob(id, { timeoutMs: 30_000 });
        const rest = await get<LogsPage>(`/api/jobs/${id}/logs?afterSeq=${page.lastSeq}`);
        expect(rest.lines.map((l) => l.message)).to.deep.equal(['released tail']);
        expect(rest.final).to.equal(true);
        expect((await get<ResultView>(`/api/jobs/${id}/result`)).result).to.equal(4);
      });

      it('lists the running executor with its queues and a fresh heartbeat', async () => {
        let list: ExecutorsPage['executors'] = [];
        // The shell registers itself right away and again soon after a queue starts.
        for (let i = 0; i < 600; i++) {
          list = (await get<ExecutorsPage>('/api/executors')).executors;
          const me = list.find((e) => e.id === shell.owner);
          if (me !== undefined && me.queues.length > 0) break;
          await sleep(25);
        }
        const me = list.find((e) => e.id === shell.owner)!;
        expect(me).to.include({ host: hostname(), pid: process.pid, state: 'running', stale: false });
        expect(me.queues).to.deep.equal([{ name: 'default', workers: 2 }]);
        expect(me.version).to.be.a('string');
        expect(me.heartbeatAgeMs).to.be.a('number').at.least(0);
        expect(Date.parse(me.heartbeatAt)).to.be.at.least(Date.parse(me.startedAt) - 1000);
        // A tiny staleness bound flags it once a millisecond has passed since its heartbeat.
        await sleep(5);
        const strict = (await get<ExecutorsPage>('/api/executors?staleAfterMs=1')).executors.find(
          (e) => e.id === shell.owner,
        );
        expect(strict?.stale).to.equal(true);
      });
    });

    it("pages with the store's afterId (no offset), takes cursors of the offset era, refuses malformed ones", async () => {
      const ids = await f.adder.addJobs(
        Array.from({ length: 6 }, (_, i) => ({ call: { target: 'flaky', method: 'ok', args: [i, new Date(0)] } })),
      );
      const filters: unknown[] = [];
      const spied = new Proxy(f.admin, {
        get(target, prop, receiver) {
          if (prop !== 'listJobs') return Reflect.get(target, prop, receiver) as unknown;
          return (filter: Parameters<IJobQueueAdmin['listJobs']>[0]) => {
            filters.push(filter);
            return target.listJobs(filter);
          };
        },
      });
      const spyApp = await buildDashboard({ admin: spied, registry, auth, logger: false, throughput: false });
      try {
        const page = async (cursor?: string) => {
          const r = await spyApp.inject({ url: `/api/jobs?limit=2${cursor ? `&cursor=${cursor}` : ''}`, headers: h });
          expect(r.statusCode, r.body).to.equal(200);
          return r.json<JobPage>();
        };
        const first = await page();
        const second = await page(first.next!);
        expect(second.jobs.map((j) => j.id)).to.deep.equal(ids.slice(2, 4));
        expect(filters.at(-1)).to.deep.equal({ afterId: ids[1], limit: 3 });
        expect(filters.every((x) => (x as { offset?: number }).offset === undefined)).to.equal(true);
        // A cursor handed out before afterId ([id, offset]) reads the same page; its offset is ignored.
        const old = Buffer.from(JSON.stringify([ids[1], 999])).toString('base64url');
        expect((await page(old)).jobs.map((j) => j.id)).to.deep.equal(ids.slice(2, 4));
        // The last job of a page purged before the next is read is still a key: nothing skipped or repeated.
        expect(await f.admin.cancelJob(ids[3])).to.equal(true);
        expect(await f.admin.purgeJobs({ statuses: ['cancelled'] })).to.equal(1);
        expect((await page(second.next!)).jobs.map((j) => j.id)).to.deep.equal(ids.slice(4, 6));
        for (const bad of [[ids[1], -1], [ids[1], 1.5], [ids[1], 2, 3], [42], ['x'.repeat(101)], {}]) {
          const cursor = Buffer.from(JSON.stringify(bad)).toString('base64url');
          const r = await spyApp.inject({ url: `/api/jobs?cursor=${cursor}`, headers: h });
          expect(r.statusCode, JSON.stringify(bad)).to.equal(400);
          expect(r.json<ErrorBody>().message).to.contain('is not a cursor this server handed out');
        }
      } finally {
        await spyApp.close();
      }
    });

    it('answers 404 for an unknown job and 400 for bad paging input', async () => {
      const id = await f.adder.addJob({ target: 'flaky', method: 'ok', args: [1, new Date(0)] });
      for (const part of ['', '/runs', '/logs', '/result']) {
        const r = await app.inject({ url: `/api/jobs/${UNKNOWN}${part}`, headers: h });
        expect(r.statusCode, part).to.equal(404);
        expect(r.json<ErrorBody>().message).to.contain(UNKNOWN);
      }
      for (const query of [
        'runs?limit=0',
        'runs?limit=1001',
        'runs?limit=abc',
        'runs?offset=-1',
        'logs?limit=0',
        'logs?limit=10001',
        'logs?afterSeq=-1',
        'logs?afterSeq=x',
        'logs?attempt=-1',
      ]) {
        const r = await app.inject({ url: `/api/jobs/${id}/${query}`, headers: h });
        expect(r.statusCode, query).to.equal(400);
      }
      expect((await app.inject({ url: '/api/executors?staleAfterMs=0', headers: h })).statusCode).to.equal(400);
      expect((await app.inject({ url: '/api/executors?staleAfterMs=soon', headers: h })).statusCode).to.equal(400);
    });

    it('manages schedules: create, list with fire times, pause, resume, trigger, update, delete', async () => {
      const c = await app.inject({
        method: 'POST',
        url: '/api/schedules',
        headers: h,
        payload: { name: 'nightly', target: 'flaky', method: 'ok', args: [1, 'x'], cron: '0 3 * * *' },
      });
      expect(c.statusCode, c.body).to.equal(201);
      expect(c.json<ScheduleBody>().upcoming).to.have.length(5);
      expect(
        (
          await app.inject({
            method: 'POST',
            url: '/api/schedules',
            headers: h,
            payload: { name: 'nightly', target: 'flaky', method: 'ok', args: [], cron: '@daily' },
          })
        ).statusCode,
      ).to.equal(409);
      const bad = await app.inject({
        method: 'POST',
        url: '/api/schedules',
        headers: h,
        payload: { name: 'bad', target: 'flaky', method: 'ok', args: [], cron: 'every day' },
      });
      expect(bad.statusCode).to.equal(400);
      expect(
        (await app.inject({ method: 'POST', url: '/api/schedules/nightly/pause', headers: h })).json<ScheduleBody>()
          .paused,
      ).to.equal(true);
      const list = (await app.inject({ url: '/api/schedules', headers: h })).json<{ schedules: ScheduleBody[] }>()
        .schedules;
      expect(list.map((x) => [x.name, x.paused])).to.deep.equal([['nightly', true]]);
      expect(
        (await app.inject({ method: 'POST', url: '/api/schedules/nightly/resume', headers: h })).json<ScheduleBody>()
          .paused,
      ).to.equal(false);
      const t = (await app.inject({ method: 'POST', url: '/api/schedules/nightly/trigger', headers: h })).json<{
        jobId: string;
      }>();
      expect((await f.admin.getJob(t.jobId))!.target).to.equal('flaky');
      const u = await app.inject({
        method: 'PATCH',
        url: '/api/schedules/nightly',
        headers: h,
        payload: { cron: '@hourly' },
      });
      expect(u.json<ScheduleBody>().cron).to.equal('@hourly');
      expect(
        (await app.inject({ method: 'PATCH', url: '/api/schedules/nightly', headers: h, payload: { target: 'flaky' } }))
          .statusCode,
      ).to.equal(400);
      expect((await app.inject({ method: 'DELETE', url: '/api/schedules/nightly', headers: h })).statusCode).to.equal(
        200,
      );
      expect((await app.inject({ url: '/api/schedules/nightly', headers: h })).statusCode).to.equal(404);
    });
  });
}

describe('dashboard features and the executor registry option (memory store)', () => {
  const h = bearer(TOKEN);
  const stores: MemoryJobStore[] = [];
  const apps: FastifyInstance[] = [];
  const open = async (o: Partial<Parameters<typeof buildDashboard>[0]> & { admin: IJobQueueAdmin }) => {
    const app = await buildDashboard({ registry, auth, logger: false, throughput: false, ...o });
    apps.push(app);
    return app;
  };
  const memory = () => {
    const s = new MemoryJobStore();
    stores.push(s);
    return s;
  };
  after(async () => {
    for (const a of apps) await a.close();
  });
  const info = (id: string) => ({
    id,
    host: 'h',
    pid: 1,
    version: '0.0.1',
    queues: [{ name: 'q', workers: 3 }],
    startedAt: new Date(0),
    state: 'running' as const,
  });

  it('says runs, logs, results and executors are available on a store that has them, and lists the store as its registry', async () => {
    const store = memory();
    await store.heartbeatExecutor(info('exec-a'));
    const app = await open({ admin: store });
    const features = (await app.inject({ url: '/api/features', headers: h })).json<Features>();
    expect(features).to.include({ runs: true, logs: true, results: true, executors: true, sequences: true });
    const list = (await app.inject({ url: '/api/executors', headers: h })).json<ExecutorsPage>().executors;
    expect(list.map((e: { id: string; queues: unknown }) => [e.id, e.queues])).to.deep.equal([
      ['exec-a', [{ name: 'q', workers: 3 }]],
    ]);
  });

  it('reads executors from options.executors when given, and answers 501 when neither it nor the admin is a registry', async () => {
    const store = memory();
    const registryStore = memory();
    await registryStore.heartbeatExecutor(info('exec-b'));
    const other = await open({ admin: store, executors: registryStore });
    expect(
      (await other.inject({ url: '/api/executors', headers: h })).json<ExecutorsPage>().executors.map((e) => e.id),
    ).to.deep.equal(['exec-b']);
    // An admin object with only the admin methods: no registry, no history.
    const adminOnly: IJobQueueAdmin = {
      getJob: (id) => store.getJob(id),
      listJobs: (q) => store.listJobs(q),
      countJobs: (q) => store.countJobs(q),
      cancelJob: (id) => store.cancelJob(id),
      requeueJob: (id, o) => store.requeueJob(id, o),
      purgeJobs: (q) => store.purgeJobs(q),
      waitForJob: (id, o) => store.waitForJob(id, o),
    } as IJobQueueAdmin;
    const bare = await open({ admin: adminOnly });
    expect((await bare.inject({ url: '/api/features', headers: h })).json<Features>()).to.include({
      runs: false,
      logs: false,
      results: false,
      executors: false,
    });
    const r = await bare.inject({ url: '/api/executors', headers: h });
    expect(r.statusCode).to.equal(501);
    expect(r.json<ErrorBody>().message).to.contain('executor registry');
    const id = await store.adder({ registry }).addJob({ target: 'flaky', method: 'ok', args: [1, new Date(0)] });
    for (const part of ['runs', 'logs', 'result'])
      expect((await bare.inject({ url: `/api/jobs/${id}/${part}`, headers: h })).statusCode, part).to.equal(501);
    const job = (await bare.inject({ url: `/api/jobs/${id}`, headers: h })).json<JobView>();
    expect(job.available).to.deep.equal({ runs: false, logs: false, result: false });
    expect(job.runs).to.equal(null);
    let err: unknown;
    try {
      await open({ admin: store, executors: {} as never });
    } catch (e) {
      err = e;
    }
    expect((err as Error).message).to.contain('options.executors');
  });
});

describe('dashboard auth, read-only and OpenAPI', () => {
  let app: FastifyInstance;
  let f: Fixture;
  before(async function () {
    f = await stores[0].open(this);
    app = await buildDashboard(dashboardOptions(f, { throughput: false }));
  });
  after(async () => {
    await app.close();
    await f.close();
  });

  it('refuses a request without or with wrong credentials, and a read-only user on every state-changing route', async () => {
    expect((await app.inject({ url: '/api/jobs' })).statusCode).to.equal(401);
    expect((await app.inject({ url: '/api/jobs', headers: bearer('wrong-token-0123456789') })).statusCode).to.equal(
      401,
    );
    expect((await app.inject({ url: '/openapi.json' })).statusCode).to.equal(401);
    expect((await app.inject({ url: '/api/jobs', headers: bearer(RO_TOKEN) })).statusCode).to.equal(200);
    const id = await f.adder.addJob({ target: 'flaky', method: 'ok', args: [1, new Date(0)] });
    for (const [method, url] of [
      ['POST', `/api/jobs/${id}/cancel`],
      ['POST', '/api/jobs'],
      ['POST', '/api/jobs/purge'],
      ['DELETE', '/api/schedules/x'],
      ['PATCH', '/api/schedules/x'],
      ['POST', '/api/sequences/x/cancel'],
    ] as const) {
      const r = await app.inject({ method, url, headers: bearer(RO_TOKEN), payload: {} });
      expect(r.statusCode, `${method} ${url}`).to.equal(403);
    }
    expect((await f.admin.getJob(id))!.status).to.equal('new');
    // The UI's files carry no data and load before login.
    expect((await app.inject({ url: '/' })).statusCode).to.equal(200);
  });

  it('serves an OpenAPI 3 document naming every API route', async () => {
    const doc = (await app.inject({ url: '/openapi.json', headers: bearer(TOKEN) })).json<OpenApiDoc>();
    expect(doc.openapi).to.match(/^3\./);
    expect(doc.info.title).to.be.a('string');
    const routes = app.printRoutes({ commonPrefix: false });
    const expected: Record<string, string[]> = {
      '/api/jobs': ['get', 'post'],
      '/api/jobs/{id}': ['get'],
      '/api/jobs/{id}/cancel': ['post'],
      '/api/jobs/{id}/retry': ['post'],
      '/api/jobs/{id}/runs': ['get'],
      '/api/jobs/{id}/logs': ['get'],
      '/api/jobs/{id}/result': ['get'],
      '/api/jobs/purge': ['post'],
      '/api/jobs/bulk': ['post'],
      '/api/schedules': ['get', 'post'],
      '/api/schedules/{name}': ['get', 'patch', 'delete'],
      '/api/schedules/{name}/pause': ['post'],
      '/api/schedules/{name}/resume': ['post'],
      '/api/schedules/{name}/trigger': ['post'],
      '/api/counts': ['get'],
      '/api/throughput': ['get'],
      '/api/features': ['get'],
      '/api/executors': ['get'],
      '/api/sequences': ['get'],
      '/api/sequences/{run}': ['get'],
      '/api/sequences/{run}/cancel': ['post'],
      '/metrics': ['get'],
    };
    // Every store route is also served for a named tenant; the tenant list and /metrics are the server's.
    for (const [path, methods] of Object.entries(expected))
      if (path.startsWith('/api/')) expected[`/api/t/{tenant}/${path.slice('/api/'.length)}`] = methods;
    expected['/api/tenants'] = ['get'];
    expect(Object.keys(doc.paths).sort()).to.deep.equal(Object.keys(expected).sort());
    for (const [path, methods] of Object.entries(expected)) {
      expect(Object.keys(doc.paths[path]).sort(), path).to.deep.equal([...methods].sort());
      for (const m of methods) expect(doc.paths[path][m].responses, `${m} ${path}`).to.be.an('object');
    }
    expect(routes).to.contain('api/jobs');
    // The tenant is a declared path parameter wherever the path names it (else the document is invalid).
    for (const [path, ops] of Object.entries(doc.paths))
      for (const [m, op] of Object.entries(ops)) {
        const names = ((op as { parameters?: { in: string; name: string }[] }).parameters ?? [])
          .filter((p) => p.in === 'path')
          .map((p) => p.name);
        const wanted = [...path.matchAll(/\{(\w+)\}/g)].map((x) => x[1]);
        expect(names.sort(), `${m} ${path}`).to.deep.equal(wanted.sort());
      }
  });

  it('refuses to listen on a non-loopback address without auth', async () => {
    let err: unknown;
    try {
      await startDashboard({ admin: f.admin, host: '0.0.0.0', port: 0, logger: false });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(InsecureListenError);
    expect((err as Error).message).to.contain('0.0.0.0');
  });
});

describe('dashboard close', () => {
  it('cuts a request stuck on the store once the grace is over, so a shutdown cannot hang', async () => {
    const store = new MemoryJobStore();
    // A store whose count never answers: the request for counts stays in flight.
    const admin = new Proxy(store, {
      get: (t, k) => {
        if (k === 'countJobs') return () => new Promise<never>(() => undefined);
        const v = Reflect.get(t, k) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
      },
    });
    const dash = await startDashboard({ admin, auth, logger: false, port: 0, closeGraceMs: 200 });
    let settled: 'pending' | 'answered' | 'cut' = 'pending';
    const asked = fetch(`${dash.url}api/counts`, { headers: bearer(TOKEN) }).then(
      () => (settled = 'answered'),
      () => (settled = 'cut'),
    );
    await sleep(300);
    expect(settled).to.equal('pending');
    await dash.close(); // without the grace this would wait for the count forever
    await asked;
    expect(settled).to.equal('cut');
  });
});
