import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { runCli, startCli } from './run-cli.js';

interface Listed {
  tenant?: string;
  id: string;
  status: string;
  queue: string;
}

describe('oddjob CLI with two file stores as tenants (real binary)', function () {
  this.timeout(120_000);
  let root: string;
  let a: string;
  let b: string;
  const stores = () => ['--store', `a=${a}`, '--store', `b=${b}`];
  const cli = (...args: string[]) => runCli([...stores(), ...args]);
  const listed = async (...args: string[]): Promise<Listed[]> => {
    const r = await cli('jobs', 'list', '--json', ...args);
    expect(r.code, r.stderr).to.equal(0);
    return JSON.parse(r.stdout) as Listed[];
  };
  const ids: Record<'a1' | 'a2' | 'b1', string> = { a1: '', a2: '', b1: '' };

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'oddjob-cli-tenants-'));
    a = join(root, 'a');
    b = join(root, 'b');
    // migrate goes to every tenant: both file stores are created by one command.
    const m = await cli('migrate');
    expect(m.code, m.stderr).to.equal(0);
    expect(m.stdout).to.equal(`tenant a: file store ready at ${a}\ntenant b: file store ready at ${b}\n`);
    const add = async (tenant: string, arg: string) => {
      const r = await cli('--tenant', tenant, 'enqueue', 'cli-fixture', 'echo', `["${arg}"]`, '--queue', 'tq');
      expect(r.code, r.stderr).to.equal(0);
      return r.stdout.trim();
    };
    ids.a1 = await add('a', 'a1');
    ids.a2 = await add('a', 'a2');
    ids.b1 = await add('b', 'b1');
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('lists every tenant with a TENANT column, and a tenant field in JSON', async () => {
    const t = await cli('jobs', 'list');
    expect(t.code, t.stderr).to.equal(0);
    const lines = t.stdout.trimEnd().split('\n');
    expect(lines[0]).to.match(/^TENANT\s+ID\s+QUEUE\s+CALL\s+STATUS/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 2))).to.deep.equal([
      ['a', ids.a1],
      ['a', ids.a2],
      ['b', ids.b1],
    ]);
    expect((await listed()).map((j) => [j.tenant, j.id])).to.deep.equal([
      ['a', ids.a1],
      ['a', ids.a2],
      ['b', ids.b1],
    ]);
    const counts = await cli('jobs', 'watch', '--once');
    expect(counts.stdout).to.match(/TENANT\s+QUEUE\s+WAITING\s+NEW/);
    expect(counts.stdout)
      .to.match(/\na\s+tq\s+0\s+2\s/)
      .and.match(/\nb\s+tq\s+0\s+1\s/);
    const executors = await cli('executors', '--json');
    expect(JSON.parse(executors.stdout)).to.deep.equal([]);
  });

  it('reads one tenant with --tenant, in the single-store format', async () => {
    const t = await cli('--tenant', 'b', 'jobs', 'list');
    expect(t.stdout.split('\n')[0]).to.match(/^ID\s+QUEUE/);
    expect(t.stdout).to.contain(ids.b1).and.not.contain(ids.a1);
    const only = await listed('--tenant', 'b');
    expect(only.map((j) => j.id)).to.deep.equal([ids.b1]);
    expect(only[0]).to.not.have.property('tenant');
    const unknown = await cli('--tenant', 'c', 'jobs', 'list');
    expect(unknown.code).to.equal(1);
    expect(unknown.stderr).to.equal('oddjob: error: unknown tenant "c" (--store names a, b)\n');
  });

  it('finds a job by id in whichever tenant holds it', async () => {
    const shown = await cli('jobs', 'show', ids.b1);
    expect(shown.code, shown.stderr).to.equal(0);
    expect(shown.stdout).to.match(/^tenant\s+b\nid\s+/);
    const asJson = JSON.parse((await cli('jobs', 'show', ids.a2, '--json')).stdout) as Listed;
    expect([asJson.tenant, asJson.id]).to.deep.equal(['a', ids.a2]);
    const missing = await cli('jobs', 'show', '01a233fd-a8d6-77f9-950f-a7720eaf8d49');
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.equal('oddjob: error: no job 01a233fd-a8d6-77f9-950f-a7720eaf8d49\n');
  });

  it('refuses a change without --tenant, and with it changes that tenant only', async () => {
    for (const args of [
      ['jobs', 'cancel', ids.a1],
      ['jobs', 'purge', '--yes'],
      ['enqueue', 'cli-fixture', 'echo'],
      ['schedules', 'pause', 'nightly'],
      ['migrate', '--print'],
      ['worker', 'no-such-module.js'],
    ]) {
      const r = await cli(...args);
      expect(r.code, args.join(' ')).to.equal(1);
      const what =
        args[0] === 'migrate'
          ? 'migrate --print'
          : args.slice(0, ['enqueue', 'worker'].includes(args[0]) ? 1 : 2).join(' ');
      expect(r.stderr).to.equal(`oddjob: error: ${what} works on one store: with tenants a, b, pass --tenant NAME\n`);
    }
    expect((await listed()).map((j) => j.status)).to.deep.equal(['new', 'new', 'new']);
    const done = await cli('--tenant', 'a', 'jobs', 'cancel', '--queue', 'tq', '--yes');
    expect(done.code, done.stderr).to.equal(0);
    expect(done.stdout).to.equal('cancelled 2 of 2 jobs\n');
    expect((await listed()).map((j) => [j.tenant, j.status])).to.deep.equal([
      ['a', 'cancelled'],
      ['a', 'cancelled'],
      ['b', 'new'],
    ]);
    // An id of tenant b is not in tenant a: the change does not wander to another store.
    const wrong = await cli('--tenant', 'a', 'jobs', 'cancel', ids.b1);
    expect(wrong.code).to.equal(1);
    expect(wrong.stderr).to.contain('nothing cancelled');
    expect((await listed('--tenant', 'b'))[0].status).to.equal('new');
  });

  it('takes the tenants from ODDJOB_TENANTS in both forms when no --store is given', async () => {
    const env = (value: string) => ({ ODDJOB_TENANTS: value, ODDJOB_STORE: '/does/not/matter' });
    for (const value of [`a=${a},b=${b}`, JSON.stringify({ a, b })]) {
      const r = await runCli(['jobs', 'list', '--json'], env(value));
      expect(r.code, r.stderr).to.equal(0);
      expect((JSON.parse(r.stdout) as Listed[]).map((j) => j.tenant)).to.deep.equal(['a', 'a', 'b']);
    }
    // --store wins over the environment.
    const plain = await runCli(['--store', b, 'jobs', 'list', '--json'], env(`a=${a}`));
    expect((JSON.parse(plain.stdout) as Listed[]).map((j) => j.id)).to.deep.equal([ids.b1]);
  });

  it('reports malformed, duplicate and mixed stores as one line', async () => {
    const cases: [string[], Record<string, string>, string][] = [
      [['jobs', 'list'], { ODDJOB_TENANTS: '{"a":' }, 'ODDJOB_TENANTS is not valid JSON: '],
      [
        ['jobs', 'list'],
        { ODDJOB_TENANTS: '/just/a/path' },
        'ODDJOB_TENANTS entry "/just/a/path": expected NAME=STORE',
      ],
      [['jobs', 'list'], { ODDJOB_TENANTS: '{"a":1}' }, 'ODDJOB_TENANTS: tenant "a" must map to a store string'],
      [['jobs', 'list'], { ODDJOB_TENANTS: `a=${a},a=${b}` }, 'ODDJOB_TENANTS: tenant "a" is given twice'],
      [['jobs', 'list'], { ODDJOB_TENANTS: `{"a":"${a}","a":"${b}"}` }, 'ODDJOB_TENANTS: tenant "a" is given twice'],
      [['jobs', 'list'], { ODDJOB_TENANTS: 'a b=/x' }, 'ODDJOB_TENANTS: tenant name "a b" must be 1 to 100'],
      [['jobs', 'list'], { ODDJOB_TENANTS: 'a=' }, 'ODDJOB_TENANTS: tenant "a" has no store after "="'],
      [['--store', `a=${a}`, '--store', `a=${b}`, 'jobs', 'list'], {}, '--store: tenant "a" is given twice'],
      [['--store', a, '--store', `b=${b}`, 'jobs', 'list'], {}, `--store "${a}" has no tenant name while others do`],
      [['--store', a, '--store', b, 'jobs', 'list'], {}, '--store given 2 times without names'],
      [['--store', a, '--tenant', 'a', 'jobs', 'list'], {}, '--tenant a: the stores have no tenant names'],
      [['--store', `a=${a}`, '--store', 'b=redis://x', 'jobs', 'list'], {}, '--store: tenant b: --store "redis://x"'],
    ];
    for (const [args, env, message] of cases) {
      const r = await runCli(args, env);
      expect(r.code, `${args.join(' ')} ${JSON.stringify(env)}`).to.equal(1);
      expect(r.stderr.startsWith(`oddjob: error: ${message}`), r.stderr).to.equal(true);
      expect(r.stderr.split('\n')).to.have.length(2);
    }
    // A store that cannot be opened is named by its tenant.
    const missing = await runCli(['--store', `a=${a}`, '--store', `b=${join(root, 'nope')}`, 'jobs', 'list']);
    expect(missing.stderr).to.match(/^oddjob: error: tenant b: StoreSetupError: .*does not exist/);
  });

  it('keeps a plain --store whose path has "=" in it a single store', async () => {
    const odd = join(root, 'x=y');
    expect((await runCli(['--store', odd, 'migrate'])).stdout).to.equal(`file store ready at ${odd}\n`);
    const r = await runCli(['--store', odd, 'jobs', 'list']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.equal('no jobs (all jobs)\n');
  });

  it('serves the dashboard with every tenant: /api/tenants, one tenant per /api/t/NAME, /metrics labelled', async () => {
    const d = await startCli([...stores(), 'dashboard', '--port', '0'], /(http:\/\/127\.0\.0\.1:\d+)\S*/);
    try {
      expect(d.output()).to.match(/^dashboard for tenants a, b: http/);
      const base = d.match[1];
      expect(await (await fetch(`${base}/api/tenants`)).json()).to.deep.equal({ tenants: ['a', 'b'] });
      const jobsOf = async (t: string) =>
        ((await (await fetch(`${base}/api/t/${t}/jobs`)).json()) as { jobs: { id: string }[] }).jobs.map((j) => j.id);
      expect(await jobsOf('b')).to.deep.equal([ids.b1]);
      expect((await jobsOf('a')).sort()).to.deep.equal([ids.a1, ids.a2].sort());
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).to.match(/oddjob_jobs_waiting\{[^}]*tenant="b"[^}]*\} 1/);
    } finally {
      d.child.kill('SIGINT');
    }
    expect(await d.exited).to.equal(0);
  });
});
