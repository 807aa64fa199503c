import { expect } from 'chai';
import { InvalidOptionError, prepareJob, Retry, type AttemptedJob, type NewJob } from '@oddjob/core';
import { schemaNames, SqlServerJobWriter, JOBS_PER_STATEMENT, type SqlServerContext } from '../src/index.js';
import type { BuiltStatement } from '../src/statements.js';

/**
 * The writer's own logic (batch dedupe, chunking, answers, key races) against a stand-in for the
 * server that applies insertJobs the way its SQL says: skip a row whose id exists or whose key is held,
 * then report the chunk's present ids and key holders.
 */
class FakeServer {
  rows = new Map<string, string | null>(); // id -> unique key
  statements: BuiltStatement[] = [];
  transactions = 0;
  /** Throw a duplicate-key error this many times first (another writer won a race). */
  raceErrors = 0;

  ctx(): SqlServerContext {
    const runner = {
      run: async (s: BuiltStatement) => this.run(s),
      transaction: async <T>(work: (tx: unknown) => Promise<T>) => {
        this.transactions++;
        return work({});
      },
    };
    return { names: schemaNames('w'), runner: runner as unknown as SqlServerContext['runner'] };
  }

  /** Rows recordAttempted applied, as its UPDATE would: only rows still new (ids of a given try). */
  attempted = new Set<string>();

  private async run(s: BuiltStatement) {
    this.statements.push(s);
    if (s.name === 'recordAttempted') {
      const ids = s.params.filter((x) => /^i\d+$/.test(x.name)).map((x) => x.value as string);
      const applied = ids.filter((id) => this.rows.has(id) && !this.attempted.has(id));
      for (const id of applied) this.attempted.add(id);
      const out = applied.map((id) => ({ id }));
      return { recordsets: [out], recordset: out, rowsAffected: [0], output: {} };
    }
    if (s.name === 'attemptedLogs') return { recordsets: [], recordset: [], rowsAffected: [0], output: {} };
    if (this.raceErrors > 0) {
      this.raceErrors--;
      throw Object.assign(new Error('Cannot insert duplicate key row'), { number: 2601 });
    }
    const p = new Map(s.params.map((x) => [x.name, x.value]));
    const count = s.params.filter((x) => /^id\d+$/.test(x.name)).length;
    const sentKeys = new Set<string>();
    const sentIds: string[] = [];
    // SQL Server's `=` and unique indexes ignore trailing spaces: model that, as the server would.
    const same = (k: string) => k.replace(/ +$/, '');
    const held = () => new Map([...this.rows].filter(([, k]) => k !== null).map(([id, k]) => [same(k!), id]));
    for (let i = 0; i < count; i++) {
      const id = p.get(`id${i}`) as string;
      const key = p.get(`uk${i}`) as string | null;
      if (!this.rows.has(id) && (key === null || !held().has(same(key)))) {
        if (key !== null && sentKeys.has(same(key))) {
          // two rows of one INSERT with the same key: the unique index refuses the whole statement
          for (const added of sentIds) this.rows.delete(added);
          throw Object.assign(new Error('Cannot insert duplicate key row'), { number: 2601 });
        }
        this.rows.set(id, key);
        sentIds.push(id);
      }
      if (key !== null) sentKeys.add(same(key));
    }
    const ids = new Set(Array.from({ length: count }, (_, i) => p.get(`id${i}`)));
    const keys = new Set(
      Array.from({ length: count }, (_, i) => p.get(`uk${i}`) as string | null)
        .filter((k) => k !== null)
        .map(same),
    );
    const out = [...this.rows]
      .filter(([id, k]) => ids.has(id) || (k !== null && keys.has(same(k))))
      .map(([id, k]) => ({ id, unique_key: k }));
    return { recordsets: [out], recordset: out, rowsAffected: [0], output: {} };
  }
}

const make = (n: number, uniqueKey?: string): NewJob =>
  prepareJob({ call: { target: 't', method: 'run', args: [n] }, options: { uniqueKey } });

const attempted = (n: number, outcome: AttemptedJob['outcome'], over: Partial<AttemptedJob> = {}): AttemptedJob => ({
  job: prepareJob({ call: { target: 't', method: 'run', args: [n] }, options: { retry: Retry.fixed(3, 1) } }),
  startedAt: new Date(Date.UTC(2030, 0, 1)),
  finishedAt: new Date(Date.UTC(2030, 0, 1, 0, 0, 1)),
  owner: 'immediate:1',
  outcome,
  ...over,
});
const when = new Date(Date.UTC(2030, 0, 2));

describe('sqlserver: job writer, insertAttempted', function () {
  it('writes the jobs, their attempt and their lines in that order in one transaction', async function () {
    const server = new FakeServer();
    const lines = [{ at: when, level: 'info' as const, message: 'hello' }];
    const entries = [
      attempted(1, { kind: 'retry', error: { name: 'E', message: 'm' }, runAt: when }, { logs: lines }),
      attempted(2, { kind: 'failed', error: { name: 'E', message: 'm' } }),
    ];
    const ids = await new SqlServerJobWriter(server.ctx()).insertAttempted(entries);
    expect(ids).to.deep.equal(entries.map((e) => e.job.id));
    expect(server.transactions).to.equal(1);
    expect(server.statements.map((st) => st.name)).to.deep.equal(['insertJobs', 'recordAttempted', 'attemptedLogs']);
    const insert = new Map(server.statements[0].params.map((p) => [p.name, p.value]));
    expect(insert.get('r0')).to.deep.equal(when); // due at its retry time
    expect(insert.get('r1')).to.deep.equal(entries[1].startedAt); // a final job: when it ran
    const record = new Map(server.statements[1].params.map((p) => [p.name, p.value]));
    expect([record.get('k0'), record.get('k1'), record.get('o0'), record.get('h0')]).to.deep.equal([
      'retry',
      'failed',
      'immediate:1',
      null,
    ]);
    expect(JSON.parse(record.get('e0') as string)).to.deep.equal({ name: 'E', message: 'm' });
  });

  it('gives a job whose key is held no attempt and no lines, and answers its holder', async function () {
    const server = new FakeServer();
    const writer = new SqlServerJobWriter(server.ctx());
    const [holder] = await writer.insertJobs([
      prepareJob({ call: { target: 't', method: 'run', args: [0] }, options: { uniqueKey: 'k' } }),
    ]);
    const dup = attempted(1, { kind: 'done' }, { logs: [{ at: when, level: 'info', message: 'x' }] });
    dup.job = { ...dup.job, uniqueKey: 'k' };
    expect(await writer.insertAttempted([dup])).to.deep.equal([holder]);
    expect(server.statements.map((st) => st.name)).to.deep.equal(['insertJobs', 'insertJobs']);
  });

  it('splits a thousand lines of one attempt into statements under the parameter limit', async function () {
    const server = new FakeServer();
    const logs = Array.from({ length: 1000 }, (_, i) => ({ at: when, level: 'info' as const, message: `l${i}` }));
    await new SqlServerJobWriter(server.ctx()).insertAttempted([attempted(1, { kind: 'done' }, { logs })]);
    const chunks = server.statements.filter((st) => st.name === 'attemptedLogs');
    expect(chunks).to.have.length(2);
    for (const c of chunks) expect(c.params.length).to.be.at.most(2000);
    expect(chunks.reduce((n, c) => n + c.params.filter((p) => p.name.startsWith('lm')).length, 0)).to.equal(1000);
  });

  it('refuses bad input before anything runs', async function () {
    const server = new FakeServer();
    const bad = attempted(1, {
      kind: 'retry',
      error: { name: 'E', message: 'm' },
    } as unknown as AttemptedJob['outcome']);
    let caught: unknown;
    await new SqlServerJobWriter(server.ctx()).insertAttempted([bad]).catch((e: unknown) => (caught = e));
    expect(caught).to.be.instanceOf(InvalidOptionError);
    expect(server.statements).to.have.length(0);
  });
});

describe('sqlserver: job writer', function () {
  it('writes a batch in one statement and answers the ids in order', async function () {
    const server = new FakeServer();
    const jobs = [make(1), make(2), make(3)];
    const ids = await new SqlServerJobWriter(server.ctx()).insertJobs(jobs);
    expect(ids).to.deep.equal(jobs.map((j) => j.id));
    expect(server.statements).to.have.length(1);
    expect(server.transactions).to.equal(0);
  });

  it('answers the holder for a taken key, and the first job for a key repeated in the batch', async function () {
    const server = new FakeServer();
    const writer = new SqlServerJobWriter(server.ctx());
    const [holder] = await writer.insertJobs([make(0, 'a')]);
    const batch = [make(1, 'a'), make(2, 'b'), make(3, 'b'), make(4)];
    const ids = await writer.insertJobs(batch);
    expect(ids).to.deep.equal([holder, batch[1].id, batch[1].id, batch[3].id]);
    expect(server.rows.size).to.equal(3);
    // the repeated key was never sent: the statement carried three rows, not four
    expect(server.statements[1].params.filter((p) => /^id\d+$/.test(p.name))).to.have.length(3);
  });

  it('treats keys that differ only by trailing spaces as one key, as SQL Server compares them', async function () {
    const server = new FakeServer();
    const writer = new SqlServerJobWriter(server.ctx());
    const [holder] = await writer.insertJobs([make(0, 'k')]);
    // against a stored holder: answered with its id, not retried until the writer gives up
    expect(await writer.insertJobs([make(1, 'k  ')])).to.deep.equal([holder]);
    // within one batch: the second is answered with the first, and never sent to collide in the index
    const batch = [make(2, 'x'), make(3, 'x ')];
    expect(await writer.insertJobs(batch)).to.deep.equal([batch[0].id, batch[0].id]);
    expect(server.rows.size).to.equal(2);
    expect(server.statements).to.have.length(3);
  });

  it('splits a large batch into chunks run in one transaction', async function () {
    const server = new FakeServer();
    const jobs = Array.from({ length: JOBS_PER_STATEMENT * 2 + 1 }, (_, i) => make(i));
    const ids = await new SqlServerJobWriter(server.ctx()).insertJobs(jobs);
    expect(ids).to.deep.equal(jobs.map((j) => j.id));
    expect(server.statements).to.have.length(3);
    expect(server.transactions).to.equal(1);
    for (const s of server.statements) expect(s.params.length).to.be.at.most(2000);
  });

  it('runs a chunk again after losing a unique-key race (2601) and then answers the holder', async function () {
    const server = new FakeServer();
    const rival = make(9, 'race');
    server.rows.set(rival.id, 'race'); // committed by someone else while we were checking
    server.raceErrors = 2;
    const mine = make(1, 'race');
    const [id] = await new SqlServerJobWriter(server.ctx()).insertJobs([mine]);
    expect(id).to.equal(rival.id);
    expect(server.statements).to.have.length(3);
  });

  it('is idempotent by id: writing the same job again stores it once', async function () {
    const server = new FakeServer();
    const job = make(1);
    const writer = new SqlServerJobWriter(server.ctx());
    await writer.insertJobs([job]);
    expect(await writer.insertJobs([job])).to.deep.equal([job.id]);
    expect(server.rows.size).to.equal(1);
  });

  it('refuses a tx that is not an mssql Transaction, and a target too long for its column', async function () {
    const writer = new SqlServerJobWriter(new FakeServer().ctx());
    let thrown: unknown;
    try {
      await writer.insertJobs([make(1)], {} as never);
    } catch (e) {
      thrown = e;
    }
    expect((thrown as { option?: string }).option).to.equal('tx');
    thrown = undefined;
    try {
      await writer.insertJobs([{ ...make(1), target: 'x'.repeat(201) }]);
    } catch (e) {
      thrown = e;
    }
    expect((thrown as { option?: string }).option).to.equal('target');
  });
});
