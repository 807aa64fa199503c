import { expect } from 'chai';
import type sql from 'mssql';
import { StorageUnavailableError, StoreSetupError } from '@oddjob/core';
import {
  EngineDetectionError,
  engineFromVersion,
  engineOf,
  ENGINE_QUERY,
  logEngine,
  type ServerEngine,
} from '../src/connection.js';
import { isTransientError, toStorageError } from '../src/transient.js';

/** @@VERSION texts as each engine formats them (first lines; build numbers vary). */
const BABELFISH =
  'Babelfish for PostgreSQL with SQL Server Compatibility - 12.0.2000.8\nOct 22 2024 17:48:32\nCopyright (c) Amazon Web Services\nPostgreSQL 16.4 (Babelfish 4.2.0)';
const SQLSERVER =
  'Microsoft SQL Server 2022 (RTM-CU14) (KB5038325) - 16.0.4135.4 (X64) \n\tJul 10 2024 14:09:09 \n\tCopyright (C) 2022 Microsoft Corporation\n\tDeveloper Edition (64-bit) on Linux (Ubuntu 22.04.4 LTS) <X64>';
const AZURE =
  'Microsoft SQL Azure (RTM) - 12.0.2000.8 \n\tMay 28 2024 11:37:22 \n\tCopyright (C) 2022 Microsoft Corporation\n';

describe('sqlserver: engine detection', function () {
  it('names Babelfish from its @@VERSION and everything else SQL Server', function () {
    expect(engineFromVersion(BABELFISH)).to.deep.equal({
      engine: 'babelfish',
      version: 'Babelfish for PostgreSQL with SQL Server Compatibility - 12.0.2000.8',
    });
    expect(engineFromVersion(SQLSERVER).engine).to.equal('sqlserver');
    expect(engineFromVersion(AZURE)).to.deep.equal({
      engine: 'sqlserver',
      version: 'Microsoft SQL Azure (RTM) - 12.0.2000.8',
    });
    expect(engineFromVersion(undefined).engine).to.equal('sqlserver');
  });

  it('logs Babelfish as a warning naming its limit, SQL Server at info', function () {
    const lines: { level: string; obj: object; msg?: string }[] = [];
    const logger = {
      info: (obj: object, msg?: string) => lines.push({ level: 'info', obj, msg }),
      warn: (obj: object, msg?: string) => lines.push({ level: 'warn', obj, msg }),
    };
    logEngine(engineFromVersion(BABELFISH), logger);
    logEngine(engineFromVersion(SQLSERVER), logger);
    expect(lines.map((l) => l.level)).to.deep.equal(['warn', 'info']);
    expect(lines[0].msg).to.match(/Babelfish.*hints are ignored.*serialise/);
    expect(lines[0].obj).to.deep.include({ engine: 'babelfish' });
  });

  it('reads the engine of a factory of your own with one @@VERSION query, and logs it once', async function () {
    const queries: string[] = [];
    const pool = {
      request: () => ({ query: async (text: string) => (queries.push(text), { recordset: [{ version: BABELFISH }] }) }),
    } as unknown as sql.ConnectionPool;
    const warned: object[] = [];
    const info: ServerEngine = await engineOf(
      { getPool: async () => pool, close: async () => undefined },
      { info: () => undefined, warn: (o) => warned.push(o) },
    );
    expect(info.engine).to.equal('babelfish');
    expect(queries).to.deep.equal([ENGINE_QUERY]);
    expect(warned).to.have.length(1);
  });
});

describe('sqlserver: a failed @@VERSION read', function () {
  const failingPool = (err: Error) =>
    ({ request: () => ({ query: async () => Promise.reject(err) }) }) as unknown as sql.ConnectionPool;
  const factory = (err: Error) => ({ getPool: async () => failingPool(err), close: async () => undefined });
  const mssqlError = (code: string, message: string) =>
    Object.assign(new Error(message), { name: 'ConnectionError', code });

  it('is a StoreSetupError (EngineDetectionError) with the driver error as cause, never the raw driver error', async function () {
    const cause = mssqlError('EREQUEST', 'permission denied');
    const err = await engineOf(factory(cause)).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(EngineDetectionError).and.to.be.instanceOf(StoreSetupError);
    expect((err as Error).cause).to.equal(cause);
    // not transient: the mapping leaves it a setup error
    expect(toStorageError('open', err)).to.equal(err);
  });

  it('is mapped to StorageUnavailableError when its cause is transient (the connection dropped in between)', async function () {
    const cause = mssqlError('ECONNRESET', 'socket hang up');
    const err = await engineOf(factory(cause)).then(
      () => null,
      (e: unknown) => e,
    );
    const mapped = toStorageError('open', err);
    expect(mapped).to.be.instanceOf(StorageUnavailableError);
    expect(mapped.cause).to.equal(err);
    expect(isTransientError(err)).to.equal(true);
  });
});
