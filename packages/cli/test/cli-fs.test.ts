import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { FileJobStore } from '@oddjob/storage-fs';
import { runCli, startCli } from './run-cli.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/worker-module.js', import.meta.url));

describe('oddjob CLI on the file store (real binary)', function () {
  this.timeout(60_000);
  let root: string;
  let dir: string;
  const cli = (...args: string[]) => runCli(['--store', dir, ...args]);

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'oddjob-cli-'));
    dir = join(root, 'store');
    const r = await cli('migrate');
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/file store ready/);
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('enqueues in the plain form and lists, as a table and as JSON', async () => {
    const a = await cli(
      'enqueue',
      'cli-fixture',
      'echo',
      '["hi"]',
      '--queue',
      'list-q',
      '--metadata',
      '{"who":"test"}',
    );
    expect(a.code, a.stderr).to.equal(0);
    const id = a.stdout.trim();
    expect(id).to.match(/^[0-9a-f-]{36}$/);
    const t = await cli('jobs', 'list', '--queue', 'list-q');
    expect(t.code).to.equal(0);
    expect(t.stdout.split('\n')[0]).to.match(/^ID\s+QUEUE\s+CALL\s+STATUS/);
    expect(t.stdout).to.contain(id).and.contain('cli-fixture.echo');
    const j = await cli('jobs', 'list', '--queue', 'list-q', '--json');
    const list = JSON.parse(j.stdout) as { id: string; metadata: unknown; status: string }[];
    expect(list.map((x) => x.id)).to.deep.equal([id]);
    expect(list[0].metadata).to.deep.equal({ who: 'test' });
    const found = JSON.parse((await cli('jobs', 'list', '--text', 'WHO":"TEST', '--json')).stdout) as { id: string }[];
    expect(found.map((x) => x.id)).to.deep.equal([id]);
    expect((await cli('jobs', 'list', '--text', 'no such text anywhere')).stdout).to.match(/^no jobs/);
    const show = await cli('jobs', 'show', id);
    expect(show.stdout)
      .to.match(/status\s+new/)
      .and.match(/args\s+\[ 'hi' \]/);
  });

  it('shows the host a job is pinned to, and a run that took it over', async () => {
    const store = await FileJobStore.open({ dir });
    let id: string;
    try {
      id = await store
        .adder()
        .addJob(
          { target: 'cli-fixture', method: 'echo', args: ['pinned'] },
          { queue: 'pin-q', pinnedHost: 'box-a', runAt: new Date(Date.now() - 31 * 60_000) },
        );
      const [job] = await store.claimJobs({
        queues: ['pin-q'],
        limit: 1,
        owner: 'exec-b',
        leaseMs: 60_000,
        host: 'box-b',
      });
      expect(job.id).to.equal(id);
      await store.recordOutcomes([{ kind: 'done', lease: { jobId: id, token: job.lease.token } }]);
    } finally {
      await store.close();
    }
    const shown = await cli('jobs', 'show', id);
    expect(shown.code, shown.stderr).to.equal(0);
    expect(shown.stdout)
      .to.match(/pinned to\s+box-a\n/)
      .and.match(/\n1\s+done\s+exec-b\s+box-b \(took over from box-a\)/);
  });

  it('lists after an id (--after), with --limit, --offset and --text, and refuses an overlong one', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await cli('enqueue', 'cli-fixture', 'echo', `["after-${i}"]`, '--queue', 'after-q');
      expect(r.code, r.stderr).to.equal(0);
      ids.push(r.stdout.trim());
    }
    const listed = async (...args: string[]) => {
      const r = await cli('jobs', 'list', '--queue', 'after-q', '--json', ...args);
      expect(r.code, r.stderr).to.equal(0);
      return (JSON.parse(r.stdout) as { id: string }[]).map((j) => j.id);
    };
    expect(await listed()).to.deep.equal(ids);
    expect(await listed('--after', ids[0])).to.deep.equal(ids.slice(1));
    expect(await listed('--after', ids[0], '--limit', '2')).to.deep.equal(ids.slice(1, 3));
    expect(await listed('--after', ids[0], '--offset', '1', '--limit', '1')).to.deep.equal([ids[2]]);
    expect(await listed('--after', ids[1], '--text', 'after-3')).to.deep.equal([ids[3]]);
    expect(await listed('--after', ids[3], '--text', 'after-1')).to.deep.equal([]);
    const none = await cli('jobs', 'list', '--queue', 'after-q', '--after', ids[3]);
    expect(none.stdout).to.equal(`no jobs (queue after-q, after ${ids[3]})\n`);
    const long = await cli('jobs', 'list', '--after', 'x'.repeat(101));
    expect(long.code).to.equal(1);
    expect(long.stderr).to.match(/^oddjob: error: .*afterId.*at most 100 characters/);
  });

  it('refuses a filter-wide change without a terminal and without --yes, then applies it with --yes', async () => {
    for (let i = 0; i < 3; i++)
      expect((await cli('enqueue', 'cli-fixture', 'echo', `["${i}"]`, '--queue', 'bulk-q')).code).to.equal(0);
    const refused = await cli('jobs', 'cancel', '--queue', 'bulk-q');
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.match(/^oddjob: error: cancel 3 jobs .*stdin is not a terminal; pass --yes\n$/);
    const counts = JSON.parse((await cli('jobs', 'list', '--queue', 'bulk-q', '--json')).stdout) as {
      status: string;
    }[];
    expect(counts.every((j) => j.status === 'new')).to.equal(true);
    const done = await cli('jobs', 'cancel', '--queue', 'bulk-q', '--yes');
    expect(done.code, done.stderr).to.equal(0);
    expect(done.stdout).to.equal('cancelled 3 of 3 jobs\n');
    const retried = await cli('jobs', 'retry', '--queue', 'bulk-q', '--status', 'cancelled', '--yes');
    expect(retried.stdout).to.equal('requeued 3 of 3 jobs\n');
    const again = await cli('jobs', 'cancel', '--queue', 'bulk-q', '--yes');
    expect(again.stdout).to.equal('cancelled 3 of 3 jobs\n');
    const purged = await cli('jobs', 'purge', '--status', 'cancelled', '--queue', 'bulk-q', '--yes');
    expect(purged.code, purged.stderr).to.equal(0);
    expect(purged.stdout).to.equal('purged 3 jobs\n');
    expect(purged.stderr).to.contain('purging: 3/3');
    expect(JSON.parse((await cli('jobs', 'list', '--queue', 'bulk-q', '--json')).stdout)).to.deep.equal([]);
  });

  it('prints counts per queue and status once with watch --once', async () => {
    const r = await cli('jobs', 'watch', '--once', '--queue', 'list-q');
    expect(r.code).to.equal(0);
    expect(r.stdout).to.match(/QUEUE\s+WAITING\s+NEW\s+PROCESSING\s+RETRY\s+DONE\s+FAILED\s+CANCELLED/);
    expect(r.stdout).to.match(/list-q\s+0\s+1\s+0\s+0\s+0\s+0\s+0/);
  });

  it('runs jobs with worker from a user module and stops on SIGINT', async () => {
    const ok = (await cli('enqueue', 'cli-fixture', 'echo', '["w"]', '--queue', 'cli-q')).stdout.trim();
    const bad = (
      await cli('enqueue', 'cli-fixture', 'boom', '[]', '--queue', 'cli-q', '--max-attempts', '1')
    ).stdout.trim();
    const w = await startCli(['--store', dir, 'worker', FIXTURE], /queues cli-q/);
    try {
      const deadline = Date.now() + 20_000;
      let statuses: string[] = [];
      while (Date.now() < deadline) {
        const list = JSON.parse((await cli('jobs', 'list', '--queue', 'cli-q', '--json')).stdout) as {
          id: string;
          status: string;
        }[];
        statuses = [ok, bad].map((id) => list.find((j) => j.id === id)?.status ?? '?');
        if (statuses[0] === 'done' && statuses[1] === 'failed') break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(statuses).to.deep.equal(['done', 'failed']);
      const shown = await cli('jobs', 'show', bad);
      expect(shown.stdout).to.match(/last error\s+Error: fixture failure/);
      // The failed attempt's run names the worker's executor; the done job shows its result and log.
      expect(shown.stdout)
        .to.match(/runs:\nATTEMPT\s+STATE\s+EXECUTOR/)
        .and.match(/\n1\s+failed\s+\S+/);
      const done = await cli('jobs', 'show', ok);
      expect(done.stdout)
        .to.match(/result\s+'w'/)
        .and.match(/\n1\s+done\s+/)
        .and.match(/log:\n.* info {2}echoing w/);
      const detail = JSON.parse((await cli('jobs', 'show', ok, '--json')).stdout) as {
        runs: { state: string }[];
        log: { message: string }[];
      };
      expect(detail.runs.map((r) => r.state)).to.deep.equal(['done']);
      expect(detail.log.map((l) => l.message)).to.deep.equal(['echoing w']);
      const executors = await cli('executors');
      expect(executors.code, executors.stderr).to.equal(0);
      expect(executors.stdout.split('\n')[0]).to.match(/^ID\s+HOST\s+PID\s+VERSION\s+STATE\s+QUEUES/);
      expect(executors.stdout).to.match(/running\s+cli-qx2/);
      const listed = JSON.parse((await cli('executors', '--json')).stdout) as { pid: number; stale: boolean }[];
      expect(listed.map((e) => [e.pid, e.stale])).to.deep.equal([[w.child.pid, false]]);
    } finally {
      w.child.kill('SIGINT');
    }
    expect(await w.exited).to.equal(0);
    expect(w.output()).to.contain('worker stopped');
    // A clean stop removes the executor's entry.
    expect((await cli('executors')).stdout).to.equal(
      'no executors registered (none running, or they stopped cleanly)\n',
    );
  });

  it('reports errors as one line with a non-zero exit code', async () => {
    const missing = await runCli(['--store', join(root, 'nope'), 'jobs', 'list']);
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.match(/^oddjob: error: .*does not exist.*\n$/);
    const noStore = await runCli(['jobs', 'list']);
    expect(noStore.stderr).to.equal(
      'oddjob: error: no store given: pass --store DIR|postgres://...|mssql://... or set ODDJOB_STORE\n',
    );
    const scheme = await runCli(['--store', 'redis://x', 'jobs', 'list']);
    expect(scheme.stderr).to.match(/^oddjob: error: --store "redis:\/\/x": unknown scheme/);
    const badArgs = await cli('enqueue', 't', 'm', '{"a":1}');
    expect(badArgs.stderr).to.match(/^oddjob: error: args must be a JSON array/);
    const unknownJob = await cli('jobs', 'show', '01a233fd-a8d6-77f9-950f-a7720eaf8d49');
    expect(unknownJob.code).to.equal(1);
    expect(unknownJob.stderr).to.equal('oddjob: error: no job 01a233fd-a8d6-77f9-950f-a7720eaf8d49\n');
    const option = await cli('jobs', 'list', '--bogus');
    expect(option.code).to.equal(1);
    expect(option.stderr.split('\n')[0]).to.equal("oddjob: error: unknown option '--bogus'");
    const status = await cli('jobs', 'list', '--status', 'sleeping');
    expect(status.stderr).to.match(/^oddjob: error: --status "sleeping": must be one of waiting, new, processing/);
    const print = await cli('migrate', '--print');
    expect(print.code).to.equal(2);
  });

  it('has --help on every command', async () => {
    const commands = [
      [],
      ['jobs'],
      ['jobs', 'list'],
      ['jobs', 'show'],
      ['jobs', 'retry'],
      ['jobs', 'cancel'],
      ['jobs', 'purge'],
      ['jobs', 'watch'],
      ['enqueue'],
      ['schedules'],
      ['schedules', 'list'],
      ['schedules', 'show'],
      ['schedules', 'pause'],
      ['schedules', 'resume'],
      ['schedules', 'trigger'],
      ['schedules', 'delete'],
      ['schedules', 'set'],
      ['sequences'],
      ['sequences', 'list'],
      ['sequences', 'show'],
      ['sequences', 'cancel'],
      ['executors'],
      ['migrate'],
      ['dashboard'],
      ['worker'],
    ];
    for (const c of commands) {
      const r = await runCli([...c, '--help']);
      expect(r.code, c.join(' ')).to.equal(0);
      expect(r.stdout, c.join(' ')).to.match(new RegExp(`^Usage: oddjob${c.length ? ' ' + c.join(' ') : ''} `));
    }
  });
});
