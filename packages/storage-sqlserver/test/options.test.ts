import { expect } from 'chai';
import sql from 'mssql';
import { InvalidOptionError } from '@oddjob/core';
import { TestClock } from '@oddjob/core/testing';
import {
  connectionFactory,
  MssqlPoolConnectionFactory,
  parseConnectionString,
  redactConnectionString,
  resolveOptions,
  validateIdentifier,
  validatePoolOptions,
  quoteIdentifier,
  type IJobQueueDbConnectionFactory,
} from '../src/index.js';

function throwsOption(fn: () => unknown, option: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, `expected InvalidOptionError for ${option}`).to.be.instanceOf(InvalidOptionError);
  expect((thrown as InvalidOptionError).option).to.equal(option);
}

describe('sqlserver: identifiers', function () {
  it('accepts plain names and quotes them with brackets', function () {
    for (const ok of ['oddjob', '_x', 'Jobs_2', 'a'.repeat(64)]) expect(validateIdentifier('schema', ok)).to.equal(ok);
    expect(quoteIdentifier('oddjob')).to.equal('[oddjob]');
  });

  it('rejects anything that could break out of the brackets or is not a plain name', function () {
    for (const bad of [
      '',
      '1abc',
      'a b',
      'x]; DROP TABLE y; --',
      'a]',
      '[a]',
      'dbo.jobs',
      'a-b',
      'é',
      'a'.repeat(65),
      null,
      42,
    ]) {
      throwsOption(() => validateIdentifier('schema', bad), 'schema');
    }
    expect(() => quoteIdentifier('x]')).to.throw(InvalidOptionError);
  });
});

describe('sqlserver: connection strings', function () {
  it('reads an mssql:// URL, percent-decoding the credentials', function () {
    const c = parseConnectionString(
      'mssql://sa:p%40ss%3Aw0rd@db.local:1444/jobs?encrypt=true&trustServerCertificate=true&requestTimeout=30000',
    );
    expect(c.server).to.equal('db.local');
    expect(c.port).to.equal(1444);
    expect(c.user).to.equal('sa');
    expect(c.password).to.equal('p@ss:w0rd');
    expect(c.database).to.equal('jobs');
    expect(c.requestTimeout).to.equal(30000);
    expect(c.options).to.deep.equal({ encrypt: true, trustServerCertificate: true });
  });

  it('accepts sqlserver:// and a named instance', function () {
    const c = parseConnectionString('sqlserver://u:p@host/db?instanceName=SQLEXPRESS&encrypt=false');
    expect(c.server).to.equal('host');
    expect(c.port).to.equal(undefined);
    expect(c.options).to.deep.equal({ instanceName: 'SQLEXPRESS', encrypt: false });
  });

  it('rejects an unknown URL parameter instead of ignoring it', function () {
    throwsOption(() => parseConnectionString('mssql://u:p@host/db?encrpyt=true'), 'connection');
    throwsOption(() => parseConnectionString('mssql://u:p@host/db?encrypt=maybe'), 'connection');
  });

  it('passes ADO.NET-style strings to mssql', function () {
    const c = parseConnectionString(
      'Server=localhost,1433;Database=test;User Id=sa;Password=p@ss;Encrypt=true;TrustServerCertificate=true',
    );
    expect(c.server).to.equal('localhost');
    expect(c.port).to.equal(1433);
    expect(c.database).to.equal('test');
    expect(c.user).to.equal('sa');
    expect(c.password).to.equal('p@ss');
  });

  it('says so when mssql finds no server in the string', function () {
    throwsOption(() => parseConnectionString('Database=test;User Id=sa'), 'connection');
    throwsOption(() => parseConnectionString(''), 'connection');
  });

  it('masks passwords for messages', function () {
    expect(redactConnectionString('mssql://sa:secret@h/db')).to.equal('mssql://sa:***@h/db');
    expect(redactConnectionString('Server=h;Password=secret;Database=d')).to.equal('Server=h;Password=***;Database=d');
  });
});

describe('sqlserver: options', function () {
  it('fills defaults', function () {
    const r = resolveOptions({ connection: 'mssql://u:p@h/db' });
    expect(r.schema).to.equal('oddjob');
    expect(r.migrations).to.equal('apply');
    expect(r.clock).to.equal(undefined);
    expect(r.retry).to.deep.equal({ maxAttempts: 5, baseDelayMs: 50, maxDelayMs: 2000 });
  });

  it('keeps a clock, a schema and retry settings', function () {
    const clock = new TestClock();
    const r = resolveOptions({
      connection: 'x',
      schema: 'jobs',
      clock,
      retry: { maxAttempts: 1 },
      migrations: 'verify',
    });
    expect(r.clock).to.equal(clock);
    expect(r.schema).to.equal('jobs');
    expect(r.retry.maxAttempts).to.equal(1);
    expect(r.migrations).to.equal('verify');
  });

  it('names the bad option', function () {
    throwsOption(() => resolveOptions({ connection: 'x', schema: 'bad name' }), 'schema');
    throwsOption(() => resolveOptions({ connection: 'x', retry: { maxAttempts: 0 } }), 'retry.maxAttempts');
    throwsOption(() => resolveOptions({ connection: 'x', retry: { baseDelayMs: -1 } }), 'retry.baseDelayMs');
    throwsOption(() => resolveOptions({ connection: 'x', migrations: 'maybe' as never }), 'migrations');
    throwsOption(() => resolveOptions({ connection: 'x', clock: {} as never }), 'clock');
    throwsOption(() => resolveOptions({ connection: 'x', shema: 'typo' } as never), 'shema');
    throwsOption(() => resolveOptions({ connection: 'x', logger: console.log as never }), 'logger');
  });

  it('keeps a logger (for what the store learns at connect: the engine)', function () {
    const logger = { info: () => undefined, warn: () => undefined };
    expect(resolveOptions({ connection: 'x', logger }).logger).to.equal(logger);
    expect(resolveOptions({ connection: 'x' }).logger).to.equal(undefined);
  });

  it('validates tarn pool options', function () {
    expect(
      validatePoolOptions({
        min: 1,
        max: 4,
        acquireTimeoutMillis: 5000,
        idleTimeoutMillis: 1000,
        createTimeoutMillis: 2000,
      }),
    ).to.deep.equal({
      min: 1,
      max: 4,
      acquireTimeoutMillis: 5000,
      idleTimeoutMillis: 1000,
      createTimeoutMillis: 2000,
    });
    throwsOption(() => validatePoolOptions({ max: 0 }), 'pool.max');
    throwsOption(() => validatePoolOptions({ min: 5, max: 2 }), 'pool.min');
    throwsOption(() => validatePoolOptions({ max: 1.5 }), 'pool.max');
    throwsOption(() => validatePoolOptions({ maxConnections: 3 }), 'pool.maxConnections');
    throwsOption(() => validatePoolOptions('big'), 'pool');
  });
});

describe('sqlserver: connection factory', function () {
  it('builds a pool with the tarn options and UTC dates, without connecting', async function () {
    const f = new MssqlPoolConnectionFactory('mssql://u:p@127.0.0.1:1/db', {
      max: 3,
      min: 1,
      acquireTimeoutMillis: 1234,
    });
    const config = (f as unknown as { pool: { config: sql.config } }).pool.config;
    expect(config.pool).to.include({ max: 3, min: 1, acquireTimeoutMillis: 1234 });
    expect(config.options?.useUTC).to.equal(true);
    await f.close();
  });

  it('refuses a configuration that would read dates in local time', function () {
    throwsOption(() => new MssqlPoolConnectionFactory({ server: 'h', options: { useUTC: false } }), 'connection');
  });

  it('uses a factory as given, and refuses pool options with it or with a ready pool', function () {
    const mine: IJobQueueDbConnectionFactory = {
      getPool: async () => ({}) as sql.ConnectionPool,
      close: async () => undefined,
    };
    expect(connectionFactory(mine)).to.equal(mine);
    throwsOption(() => connectionFactory(mine, { max: 2 }), 'pool');
    const pool = new sql.ConnectionPool({ server: 'h' });
    throwsOption(() => connectionFactory(pool, { max: 2 }), 'pool');
    throwsOption(() => connectionFactory(undefined as never), 'connection');
  });
});
