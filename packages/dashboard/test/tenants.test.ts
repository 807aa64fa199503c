import { expect } from 'chai';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { MemoryJobStore, ScheduleManager } from '@oddjob/core';
import { buildDashboard } from '../src/index.js';
import { auth, bearer, registry, RO_TOKEN, TOKEN } from './fixtures.js';

type ErrorBody = { error: string; message: string };
type JobPage = { jobs: { id: string; queue: string }[] };

/** Two memory stores as tenants `a` and `b`, with the log lines Fastify's pino writes. */
async function twoTenants(): Promise<{
  app: FastifyInstance;
  a: MemoryJobStore;
  b: MemoryJobStore;
  lines: Record<string, unknown>[];
}> {
  const a = new MemoryJobStore();
  const b = new MemoryJobStore();
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean))
        lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  const tenant = (s: MemoryJobStore) => ({
    admin: s,
    adder: s.adder({ registry }),
    schedules: new ScheduleManager({ store: s, writer: s, registry }),
  });
  const app = await buildDashboard({
    tenants: { a: tenant(a), b: tenant(b) },
    registry,
    auth,
    logger: { level: 'info', stream },
    throughput: false,
  });
  return { app, a, b, lines };
}

describe('dashboard API with several tenants', () => {
  let app: FastifyInstance;
  let a: MemoryJobStore;
  let b: MemoryJobStore;
  let lines: Record<string, unknown>[];
  const h = bearer(TOKEN);
  beforeEach(async () => ({ app, a, b, lines } = await twoTenants()));
  afterEach(() => app.close());

  it('lists the tenants and serves each store under /api/t/NAME/', async () => {
    expect((await app.inject({ url: '/api/tenants', headers: h })).json()).to.deep.equal({ tenants: ['a', 'b'] });
    const made = await app.inject({
      method: 'POST',
      url: '/api/t/b/jobs',
      headers: h,
      payload: { target: 'flaky', method: 'ok', args: [1, '1970-01-01T00:00:00Z'], queue: 'in-b' },
    });
    expect(made.statusCode, made.body).to.equal(201);
    const id = made.json<{ id: string }>().id;
    expect((await b.getJob(id))?.queue).to.equal('in-b');
    expect(await a.getJob(id)).to.equal(null);
    const inA = await a.adder({ registry }).addJob({ target: 'flaky', method: 'ok', args: [2, new Date(0)] });
    const list = async (t: string) =>
      (await app.inject({ url: `/api/t/${t}/jobs`, headers: h })).json<JobPage>().jobs.map((j) => j.id);
    expect(await list('a')).to.deep.equal([inA]);
    expect(await list('b')).to.deep.equal([id]);
    expect((await app.inject({ url: `/api/t/a/jobs/${id}`, headers: h })).statusCode).to.equal(404);
    expect((await app.inject({ url: `/api/t/b/jobs/${id}`, headers: h })).json<{ id: string }>().id).to.equal(id);
    const counts = (await app.inject({ url: '/api/t/b/counts', headers: h })).json<{ counts: unknown[] }>();
    expect(counts.counts).to.deep.equal([{ queue: 'in-b', status: 'new', count: 1 }]);
    const features = (await app.inject({ url: '/api/t/a/features', headers: h })).json<Record<string, unknown>>();
    expect(features).to.include({ tenant: 'a', enqueue: true, schedules: true });
    expect(features.tenants).to.deep.equal(['a', 'b']);
  });

  it('keeps schedules apart per tenant', async () => {
    const made = await app.inject({
      method: 'POST',
      url: '/api/t/a/schedules',
      headers: h,
      payload: { name: 'nightly', target: 'flaky', method: 'ok', args: [1, '1970-01-01T00:00:00Z'], cron: '0 3 * * *' },
    });
    expect(made.statusCode, made.body).to.equal(201);
    const names = async (t: string) =>
      (await app.inject({ url: `/api/t/${t}/schedules`, headers: h }))
        .json<{ schedules: { name: string }[] }>()
        .schedules.map((s) => s.name);
    expect(await names('a')).to.deep.equal(['nightly']);
    expect(await names('b')).to.deep.equal([]);
    expect(
      (await app.inject({ method: 'POST', url: '/api/t/b/schedules/nightly/pause', headers: h })).statusCode,
    ).to.equal(404);
  });

  it('answers 404 naming the tenants for an unknown one, before validating the body, and after auth', async () => {
    for (const [method, url, payload] of [
      ['GET', '/api/t/nope/jobs', undefined],
      ['GET', '/api/t/nope/features', undefined],
      ['POST', '/api/t/nope/jobs', { not: 'a job' }],
      ['DELETE', '/api/t/nope/schedules/x', undefined],
    ] as const) {
      const r = await app.inject({ method, url, headers: h, payload });
      expect(r.statusCode, `${method} ${url}`).to.equal(404);
      expect(r.json<ErrorBody>().message).to.equal('tenant "nope" not found (tenants: a, b)');
    }
    expect((await app.inject({ url: '/api/t/nope/jobs' })).statusCode).to.equal(401);
  });

  it('refuses the unaddressed /api/... routes with several tenants, saying how to name one', async () => {
    for (const url of ['/api/jobs', '/api/counts', '/api/features']) {
      const r = await app.inject({ url, headers: h });
      expect(r.statusCode, url).to.equal(400);
      expect(r.json<ErrorBody>().message).to.contain('several tenants (a, b)').and.contain('/api/t/NAME/');
    }
  });

  it("names the tenant in every state-changing action's log line, and in a refused read-only one", async () => {
    const id = await b.adder({ registry }).addJob({ target: 'flaky', method: 'ok', args: [1, new Date(0)] });
    expect((await app.inject({ method: 'POST', url: `/api/t/b/jobs/${id}/cancel`, headers: h })).statusCode).to.equal(
      200,
    );
    expect((await app.inject({ method: 'POST', url: `/api/t/b/jobs/${id}/cancel`, headers: h })).statusCode).to.equal(
      409,
    );
    const bulk = await app.inject({
      method: 'POST',
      url: '/api/t/a/jobs/bulk',
      headers: h,
      payload: { action: 'cancel', filter: {} },
    });
    expect(bulk.statusCode).to.equal(200);
    const purge = await app.inject({
      method: 'POST',
      url: '/api/t/a/jobs/purge',
      headers: h,
      payload: { statuses: ['cancelled'] },
    });
    expect(purge.statusCode).to.equal(200);
    expect(
      (await app.inject({ method: 'POST', url: `/api/t/b/jobs/${id}/cancel`, headers: bearer(RO_TOKEN) })).statusCode,
    ).to.equal(403);
    const actions = lines.filter((l) => typeof l.action === 'string').map((l) => [l.tenant, l.action, l.user]);
    expect(actions).to.deep.equal([
      ['b', 'cancel', 'alice'],
      ['b', 'cancel', 'alice'],
      ['a', 'bulk cancel', 'alice'],
      ['a', 'purge', 'alice'],
    ]);
    const refused = lines.find((l) => l.msg === 'dashboard: read-only user refused');
    expect(refused).to.include({ tenant: 'b', user: 'reader' });
  });
});

describe('dashboard API tenant shapes', () => {
  it('serves a single store at /api/... as before, lists no tenants and answers 404 under /api/t/', async () => {
    const s = new MemoryJobStore();
    const app = await buildDashboard({ admin: s, logger: false, throughput: false });
    try {
      expect((await app.inject({ url: '/api/tenants' })).json()).to.deep.equal({ tenants: [] });
      expect((await app.inject({ url: '/api/jobs' })).statusCode).to.equal(200);
      expect((await app.inject({ url: '/api/features' })).json()).to.include({ tenant: null });
      const r = await app.inject({ url: '/api/t/default/jobs' });
      expect(r.statusCode).to.equal(404);
      expect(r.json<ErrorBody>().message).to.contain('serves one store without tenant names');
    } finally {
      await app.close();
    }
  });

  it('serves the only tenant at /api/... too', async () => {
    const s = new MemoryJobStore();
    const id = await s.adder({ registry }).addJob({ target: 'flaky', method: 'ok', args: [1, new Date(0)] });
    const app = await buildDashboard({ tenants: { only: { admin: s } }, logger: false, throughput: false });
    try {
      expect((await app.inject({ url: '/api/jobs' })).json<JobPage>().jobs.map((j) => j.id)).to.deep.equal([id]);
      expect((await app.inject({ url: '/api/t/only/jobs' })).json<JobPage>().jobs.map((j) => j.id)).to.deep.equal([id]);
    } finally {
      await app.close();
    }
  });

  it('refuses options with both a store and tenants, no tenant, or a bad tenant name', async () => {
    const s = new MemoryJobStore();
    const refused = async (o: Parameters<typeof buildDashboard>[0]): Promise<string> => {
      try {
        await (await buildDashboard({ ...o, logger: false, throughput: false })).close();
      } catch (e) {
        return (e as Error).message;
      }
      throw new Error('accepted');
    };
    expect(await refused({ admin: s, tenants: { a: { admin: s } } })).to.contain('not both');
    expect(await refused({ tenants: {} })).to.contain('one or more');
    expect(await refused({ tenants: { 'a/b': { admin: s } } })).to.contain('tenant name "a/b"');
    expect(await refused({ tenants: { a: { admin: {} as never } } })).to.contain('options.tenants.a.admin');
  });
});
