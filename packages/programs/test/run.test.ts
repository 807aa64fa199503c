import { expect } from 'chai';
import { chmodSync, readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { JobAbortError } from '@oddjob/core';
import {
  ProgramAbortError,
  ProgramFailedError,
  ProgramKilledError,
  ProgramRefusedError,
  ProgramStartError,
  ProgramTimeoutError,
} from '../src/index.js';
import { alive, RecordingContext, reporterUrl, runner, tempDir, waitFor } from './helpers.js';

const sh = (script: string, extra: object = {}) => ({ executable: '/bin/sh', args: ['-c', script, 'sh'], ...extra });
const node = (script: string, extra: object = {}) => ({
  executable: process.execPath,
  args: ['--input-type=module', '-e', script],
  ...extra,
});

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('did not fail');
}

describe('programs: running a program', function () {
  this.timeout(60_000);
  const dir = tempDir();

  it('returns exit code, duration and the stdout tail; logs stdout and stderr with timestamps', async () => {
    const run = runner({ hello: sh('echo out-1; echo err-1 >&2; echo out-2') });
    const ctx = new RecordingContext();
    const result = await run('hello', [], {}, ctx);
    expect(result.exitCode).to.equal(0);
    expect(result.durationMs).to.be.a('number').and.at.least(0);
    expect(result.stdoutTail).to.equal('out-1\nout-2');
    const msgs = ctx.lines.map((l) => `${l.level} ${l.msg}`);
    expect(msgs.some((m) => /^info \d{4}-\d\d-\d\dT[\d:.]+Z stdout \| out-1$/.test(m))).to.equal(true, msgs.join('\n'));
    expect(msgs.some((m) => /^warn .* stderr \| err-1$/.test(m))).to.equal(true, msgs.join('\n'));
  });

  it('passes the per-job arguments and allowed environment', async () => {
    const run = runner({ args: sh('echo "$1:$TAG"', { vary: { pattern: /\w+/ }, allowEnv: ['TAG'] }) });
    const result = await run('args', ['abc'], { env: { TAG: 'nightly' } });
    expect(result.stdoutTail).to.equal('abc:nightly');
  });

  it('applies the exit-code rules: success codes, retried failures, codes that are not retried', async () => {
    const run = runner({
      code: sh('echo failing >&2; exit "$1"', {
        vary: { pattern: /\d+/ },
        successExitCodes: [0, 3],
        noRetryExitCodes: [4],
      }),
    });
    expect((await run('code', ['3'])).exitCode).to.equal(3);
    const retried = await rejection(run('code', ['2']));
    expect(retried).to.be.instanceOf(ProgramFailedError).and.not.instanceOf(JobAbortError);
    expect(retried).to.include({ exitCode: 2, signal: null, stderrTail: 'failing' });
    expect(retried.message).to.match(/exited with code 2; stderr tail:\nfailing/);
    const final = await rejection(run('code', ['4']));
    expect(final).to.be.instanceOf(ProgramAbortError).and.instanceOf(JobAbortError);
    expect(final).to.include({ exitCode: 4 });
    // a job may narrow the codes for itself
    expect(await rejection(run('code', ['3'], { successExitCodes: [0] }))).to.be.instanceOf(ProgramFailedError);
  });

  it('a missing executable and a file without execute permission fail without retry', async () => {
    const script = join(dir, 'no-exec.sh');
    writeFileSync(script, '#!/bin/sh\necho never\n');
    chmodSync(script, 0o644);
    const run = runner({ missing: { executable: join(dir, 'does-not-exist') }, denied: { executable: script } });
    const missing = await rejection(run('missing'));
    expect(missing).to.be.instanceOf(ProgramStartError).and.instanceOf(JobAbortError);
    expect(missing.message).to.match(/could not start \(ENOENT\)/);
    const denied = await rejection(run('denied'));
    expect(denied).to.be.instanceOf(ProgramStartError);
    expect(denied.message).to.match(/could not start \(EACCES\)/);
  });

  it('arguments that do not match the entry spawn nothing', async () => {
    const marker = join(dir, 'spawned');
    const run = runner({ touch: sh(`touch ${marker}`, { vary: { flags: ['--ok'] } }) });
    expect(await rejection(run('touch', ['--not-ok']))).to.be.instanceOf(ProgramRefusedError);
    expect(existsSync(marker)).to.equal(false);
  });

  it('a program killed by a signal fails with the signal named', async () => {
    const run = runner({ suicide: sh('echo bye >&2; kill -KILL $$') });
    const err = await rejection(run('suicide'));
    expect(err).to.be.instanceOf(ProgramFailedError);
    expect(err).to.include({ signal: 'SIGKILL', exitCode: null });
    expect(err.message).to.match(/killed by SIGKILL; stderr tail:\nbye/);
  });

  it('a program that never ends is killed at its timeout', async () => {
    const run = runner({ forever: sh('echo started >&2; sleep 300', { timeoutMs: 300, killGraceMs: 200 }) });
    const started = Date.now();
    const err = await rejection(run('forever'));
    expect(err).to.be.instanceOf(ProgramTimeoutError);
    expect(err.message).to.match(/timed out after 300 ms.*\n.*started/s);
    expect(Date.now() - started).to.be.below(20_000);
  });

  it('abort ends the whole process tree: SIGTERM, then SIGKILL after the grace, no orphan left', async () => {
    const pidFile = join(dir, 'grandchild.pid');
    // The child shell ignores SIGTERM, so only the SIGKILL after the grace can end it; its sleeping child is the grandchild.
    const run = runner({
      tree: sh(`/bin/sh -c 'trap "" TERM; sleep 300 & echo $! > ${pidFile}; wait; wait' & wait`, { killGraceMs: 300 }),
    });
    const ctx = new RecordingContext();
    const running = run('tree', [], {}, ctx);
    await waitFor(
      () => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim().length > 0,
      'the grandchild to start',
    );
    const grandchild = Number(readFileSync(pidFile, 'utf8').trim());
    expect(alive(grandchild)).to.equal(true);
    ctx.controller.abort(new Error('cancelled by test'));
    const err = await rejection(running);
    expect(err).to.be.instanceOf(ProgramKilledError);
    expect(err.message).to.match(/cancelled by test/);
    await waitFor(() => !alive(grandchild), `grandchild ${grandchild} to be gone`, 5_000);
  });

  it('a program that forks a child and exits: the job ends with the program, and the child is ended', async () => {
    const pidFile = join(dir, 'forked.pid');
    const run = runner({ fork: sh(`sleep 300 & echo $! > ${pidFile}; echo parent done`, { killGraceMs: 500 }) });
    const started = Date.now();
    const result = await run('fork');
    expect(result.stdoutTail).to.equal('parent done');
    expect(Date.now() - started).to.be.below(20_000);
    const child = Number(readFileSync(pidFile, 'utf8').trim());
    await waitFor(() => !alive(child), `forked child ${child} to be gone`, 5_000);
  });

  it('1 GB of output keeps memory bounded: the captured text is the tail, with a truncation marker', async () => {
    const run = runner(
      { flood: sh('head -c 1000000000 /dev/zero; yes line | head -n 100000; echo last-line') },
      { logHeadChars: 4096, logTailChars: 8192, tailChars: 2048 },
    );
    const ctx = new RecordingContext();
    const before = process.memoryUsage().rss;
    const result = await run('flood', [], {}, ctx);
    const grown = process.memoryUsage().rss - before;
    expect(result.stdoutTail.length).to.be.at.most(2048 + 100);
    expect(result.stdoutTail).to.match(/^\[oddjob: \d+ earlier line\(s\), \d+ byte\(s\), truncated\]\n/);
    expect(result.stdoutTail.endsWith('line\nline\nlast-line')).to.equal(true);
    const logged = ctx.lines.reduce((n, l) => n + l.msg.length, 0);
    expect(logged).to.be.below(4096 + 8192 + 16 * 1024); // head + tail + one cut line and the marker
    expect(ctx.lines.some((l) => /output over 4096 characters; \d+ line\(s\) not logged/.test(l.msg))).to.equal(true);
    expect(grown).to.be.below(150 * 1024 * 1024);
  });

  it('binary output is logged as printable text', async () => {
    const run = runner({ bin: sh("printf 'a\\000b\\033[31mc\\377\\n'") });
    const result = await run('bin');
    expect(result.stdoutTail).to.equal('a\uFFFDb\uFFFD[31mc\uFFFD');
  });

  it('an OddJob-aware node program reports progress and log lines; the rest is plain output', async () => {
    const script = `import { progress, log } from ${JSON.stringify(reporterUrl)};
      console.log('plain 1'); progress(10); progress(40, 'copied 4 of 10'); log('checkpoint', 'warn');
      console.log('::oddjob:: not json'); progress(100, 'done');`;
    const run = runner({ aware: node(script) });
    const ctx = new RecordingContext();
    const result = await run('aware', [], {}, ctx);
    expect(result.stdoutTail).to.equal('plain 1\n::oddjob:: not json');
    expect(ctx.progress[0]).to.equal(10);
    expect(ctx.progress.at(-1)).to.deep.equal({ percent: 100, message: 'done' });
    expect(ctx.lines).to.deep.include({ level: 'warn', msg: 'checkpoint' });
  });

  it('writes a transcript file named with the job id and a timestamp when a directory is configured', async () => {
    const out = tempDir();
    const run = runner({ hello: sh('echo to-file; echo err-file >&2') }, { outputDir: out });
    const ctx = new RecordingContext('job-file-1');
    await run('hello', [], {}, ctx);
    const files = readdirSync(out);
    expect(files).to.have.length(1);
    expect(files[0]).to.match(/^job-file-1-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z\.log$/);
    const text = readFileSync(join(out, files[0]), 'utf8');
    expect(text).to.match(/Z stdout \| to-file\n/);
    expect(text).to.match(/Z stderr \| err-file\n/);
  });

  it('writes output into the run log (ctx.logAt), not the logger', async () => {
    const run = runner({ hello: sh('echo via-log') });
    const ctx = new RecordingContext();
    const logged: string[] = [];
    ctx.logAt = (level: string, ...parts: unknown[]) => void logged.push(`${level} ${parts.map(String).join(' ')}`);
    await run('hello', [], {}, ctx);
    expect(logged.some((l) => /^info .* stdout \| via-log$/.test(l))).to.equal(true);
    expect(ctx.lines).to.have.length(0);
  });
});
