import { expect } from 'chai';
import { JobAbortError, JobRegistry, InvalidOptionError } from '@oddjob/core';
import { checkAllowList, ProgramRefusedError, programJob, registerPrograms, resolveInvocation } from '../src/index.js';

const list = checkAllowList({
  backup: {
    executable: '/usr/bin/tar',
    args: ['-c'],
    vary: { flags: ['--full', '--level'], pattern: /[a-z0-9_-]+/, maxCount: 3 },
    allowEnv: ['BACKUP_TAG'],
    timeoutMs: 60_000,
  },
  fixed: { executable: '/bin/true' },
});

function refused(fn: () => unknown, text: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(ProgramRefusedError);
    expect(err).to.be.instanceOf(JobAbortError); // never retried
    expect((err as Error).message).to.match(text);
    return;
  }
  expect.fail('was not refused');
}

describe('programs: the allow-list', () => {
  it('builds the invocation from the entry, with the per-job arguments after the fixed ones', () => {
    const inv = resolveInvocation(list, 'backup', ['--full', 'home', '--level=2'], {
      env: { BACKUP_TAG: 'nightly' },
      timeoutMs: 1000,
    });
    expect(inv.executable).to.equal('/usr/bin/tar');
    expect(inv.args).to.deep.equal(['-c', '--full', 'home', '--level=2']);
    expect(inv.env.BACKUP_TAG).to.equal('nightly');
    expect(inv.timeoutMs).to.equal(1000);
    expect(inv.successExitCodes).to.deep.equal([0]);
  });

  it('refuses an executable path, an unknown entry and a non-string name', () => {
    refused(() => resolveInvocation(list, '/bin/sh', [], {}), /never an executable path/);
    refused(() => resolveInvocation(list, '../bin/sh', [], {}), /never an executable path/);
    refused(() => resolveInvocation(list, 'rm', [], {}), /no such entry.*known: backup, fixed/);
    refused(() => resolveInvocation(list, 'constructor', [], {}), /no such entry/);
    refused(() => resolveInvocation(list, 42, [], {}), /must be a string/);
  });

  it('refuses arguments the entry does not allow', () => {
    refused(() => resolveInvocation(list, 'fixed', ['x'], {}), /at most 0/);
    refused(() => resolveInvocation(list, 'backup', ['a', 'b', 'c', 'd'], {}), /at most 3/);
    refused(() => resolveInvocation(list, 'backup', ['--delete'], {}), /"--delete" is not allowed/);
    refused(() => resolveInvocation(list, 'backup', ['--level=2; rm -rf /'], {}), /not allowed/);
    refused(() => resolveInvocation(list, 'backup', ['Home'], {}), /not allowed/); // the pattern is anchored
    refused(() => resolveInvocation(list, 'backup', [1], {}), /must be a string/);
    refused(() => resolveInvocation(list, 'backup', 'home', {}), /array of strings/);
  });

  it('refuses environment, timeouts and options the entry does not allow', () => {
    refused(
      () => resolveInvocation(list, 'backup', [], { env: { LD_PRELOAD: '/tmp/x.so' } }),
      /may not set environment variable LD_PRELOAD/,
    );
    refused(() => resolveInvocation(list, 'backup', [], { timeoutMs: 120_000 }), /over the entry's 60000/);
    refused(() => resolveInvocation(list, 'backup', [], { executable: '/bin/sh' }), /unknown option "executable"/);
    refused(() => resolveInvocation(list, 'backup', [], { successExitCodes: [-1] }), /exit codes/);
  });

  it('passes only PATH, HOME, LANG and TZ from the executor unless the entry inherits its environment', () => {
    process.env.ODDJOB_PROGRAMS_SECRET = 'x';
    try {
      const inv = resolveInvocation(list, 'fixed', [], {});
      expect(inv.env).to.not.have.property('ODDJOB_PROGRAMS_SECRET');
      expect(inv.extendEnv).to.equal(false);
    } finally {
      delete process.env.ODDJOB_PROGRAMS_SECRET;
    }
  });

  it('checks the list at registration and holds one list per registry', () => {
    expect(() => checkAllowList({ 'a/b': { executable: '/bin/true' } })).to.throw(InvalidOptionError, /entry names/);
    expect(() => checkAllowList({ a: { executable: '' } })).to.throw(InvalidOptionError, /executable/);
    expect(() => checkAllowList({ a: { executable: '/bin/true', timeoutMs: 0 } })).to.throw(
      InvalidOptionError,
      /timeoutMs/,
    );
    const registry = new JobRegistry();
    registerPrograms(registry, { a: { executable: '/bin/true' } });
    expect(() => registerPrograms(registry, { b: { executable: '/bin/true' } })).to.throw(
      InvalidOptionError,
      /already registered/,
    );
  });

  it('programJob is the plain call the target reads', () => {
    expect(programJob('backup', ['--full'])).to.deep.equal({
      target: 'oddjob.program',
      method: 'run',
      args: ['backup', ['--full'], {}],
    });
  });
});
