import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import {
  LATEST_VERSION,
  migrationBody,
  migrationChecksum,
  migrationScript,
  MIGRATIONS,
  schemaNames,
} from '../src/index.js';
import sql from 'mssql';
import { migrationRequest, MIGRATION_REQUEST_TIMEOUT_MS } from '../src/migrate.js';
import { applockResource, MIGRATION_LOCK_TIMEOUT_MS, renderStatement } from '../src/migrations.js';

/**
 * Released migrations are append-only: their text is pinned here. Changing one of these checksums
 * means a database that already applied it would silently differ from a new one: add a migration.
 */
const PINNED: Record<number, string> = {
  1: '050073c4fbdcb720f71efb8809e65c2530fec56b75d62b14edf8ebe938f10932',
  2: '61f6e9f5da852220230fc52b07ffe00885f8477474b1f2da97420d7cdc4fe3a8',
  3: '324c6e0e48582d8e8305cd09d258632f7364aaf876b6740c04c8e42eee936abc',
  4: 'c41805e254b31deee803234271340d260d2df81a6eb1a8c215ca5608c3696186',
};

describe('sqlserver: migrations', function () {
  it('are numbered 1, 2, 3, ... with no gaps, each named and non-empty', function () {
    MIGRATIONS.forEach((m, i) => {
      expect(m.version).to.equal(i + 1);
      expect(m.name).to.be.a('string').and.not.equal('');
      expect(m.statements.length).to.be.greaterThan(0);
    });
    expect(LATEST_VERSION).to.equal(MIGRATIONS.length);
  });

  it('are append-only: every released migration still has its pinned checksum', function () {
    for (const m of MIGRATIONS) {
      const pinned = PINNED[m.version];
      expect(pinned, `migration ${m.version} has no pinned checksum: add it to PINNED when you release it`).to.be.a(
        'string',
      );
      expect(migrationChecksum(m), `migration ${m.version} was edited; add a new migration instead`).to.equal(pinned);
    }
  });

  it('write only to the schema placeholder, never to a hard-coded schema', function () {
    for (const m of MIGRATIONS) {
      for (const s of m.statements) {
        expect(s).to.match(/\{schema\}\.\[/);
        expect(s).to.not.match(/\bdbo\./i);
        expect(renderStatement(s, schemaNames('abc'))).to.not.contain('{schema}');
      }
    }
  });

  it('apply each migration under the applock, after the newer-version check, guarded by the ledger', function () {
    const names = schemaNames('tenant_a');
    const body = migrationBody(names);
    const lock = body.indexOf('sp_getapplock');
    expect(lock).to.be.greaterThan(-1);
    expect(body).to.contain(`@Resource = N'${applockResource(names)}'`);
    expect(body).to.contain("@LockOwner = 'Transaction'");
    expect(body).to.match(/IF @lock < 0 THROW 51000/);
    const newer = body.indexOf(`WHERE version > ${LATEST_VERSION}) THROW 51001`);
    expect(newer).to.be.greaterThan(lock);
    let previous = newer;
    for (const m of MIGRATIONS) {
      const guard = body.indexOf(`IF NOT EXISTS (SELECT 1 FROM [tenant_a].[migrations] WHERE version = ${m.version})`);
      const ledger = body.indexOf(`VALUES (${m.version}, `);
      expect(guard, `guard of ${m.version}`).to.be.greaterThan(previous);
      expect(ledger, `ledger row of ${m.version}`).to.be.greaterThan(guard);
      for (const s of m.statements) {
        // searched from the guard on: a later migration may repeat an earlier one's statement (v4 drops
        // IX_jobs_claimable as v3 did)
        const at = body.indexOf(`EXEC(N'${renderStatement(s, names).replace(/'/g, "''")}')`, guard);
        expect(at, 'statement inside its guarded block').to.be.greaterThan(guard).and.lessThan(ledger);
      }
      previous = ledger;
    }
  });

  it('run the batch with a request time-out longer than the applock wait (mssql defaults to 15 s)', function () {
    expect(migrationBody(schemaNames('t'))).to.contain(`@LockTimeout = ${MIGRATION_LOCK_TIMEOUT_MS};`);
    const tx = new sql.Transaction(new sql.ConnectionPool({ server: 'unused.invalid' }));
    const request = migrationRequest(tx) as unknown as { overrides: { requestTimeout?: number }; parent: unknown };
    expect(request.parent).to.equal(tx);
    expect(request.overrides.requestTimeout).to.equal(MIGRATION_REQUEST_TIMEOUT_MS);
    expect(MIGRATION_REQUEST_TIMEOUT_MS).to.be.greaterThan(MIGRATION_LOCK_TIMEOUT_MS + 60_000);
  });

  it('take one applock per schema whatever the case it is spelled in (applock names compare byte for byte)', function () {
    expect(applockResource(schemaNames('Tenant_A'))).to.equal(applockResource(schemaNames('tenant_a')));
    expect(applockResource(schemaNames('tenant_a'))).to.not.equal(applockResource(schemaNames('tenant_b')));
    expect(migrationBody(schemaNames('Tenant_A'))).to.contain("@Resource = N'oddjob.migrate.tenant_a'");
  });

  it('print as one transactional batch a DBA can run by hand', function () {
    const script = migrationScript(schemaNames('jobs'));
    expect(script).to.not.match(/^\s*GO\s*$/im); // one batch: the transaction cannot be split
    expect(script.indexOf('BEGIN TRANSACTION')).to.be.lessThan(script.indexOf('sp_getapplock'));
    expect(script.indexOf('COMMIT TRANSACTION')).to.be.greaterThan(
      script.lastIndexOf('INSERT INTO [jobs].[migrations]'),
    );
    expect(script).to.contain('ROLLBACK TRANSACTION');
    expect(script).to.contain("EXEC(N'CREATE SCHEMA [jobs]')");
  });

  it("quote the DDL inside EXEC(N'...') so that it reads back exactly as written", function () {
    const names = schemaNames('s');
    const body = migrationBody(names);
    const inner = [...body.matchAll(/EXEC\(N'((?:[^']|'')*)'\);/g)].map((m) => m[1].replace(/''/g, "'"));
    const expected = [
      'CREATE SCHEMA [s]',
      inner[1], // the ledger table, checked by the line below
      ...MIGRATIONS.flatMap((m) => m.statements.map((st) => renderStatement(st, names))),
    ];
    expect(inner[1]).to.match(/^CREATE TABLE \[s\]\.\[migrations\]/);
    expect(inner).to.deep.equal(expected);
  });

  it('v2 only adds nullable columns to jobs (existing rows keep every value, the new ones read null)', function () {
    const v2 = MIGRATIONS.find((m) => m.version === 2)!;
    const alters = v2.statements.filter((st) => st.startsWith('ALTER TABLE'));
    expect(alters.map((st) => /ADD (\w+) /.exec(st)![1])).to.deep.equal([
      'started_at',
      'executor_id',
      'host',
      'result',
      'progress_message',
    ]);
    for (const st of alters) expect(st).to.match(/^ALTER TABLE \{schema\}\.\[jobs\] ADD \w+ [\w()]+ NULL$/);
    expect(alters.find((st) => st.includes(' result '))).to.contain('nvarchar(max)');
    expect(v2.statements.join('\n')).to.not.match(/\bDROP\b|\bUPDATE\b|ALTER COLUMN/i);
  });

  it('v2 keeps runs and logs under their job: bigint identity seq, clustered on (job_id, seq), deleted with it by cascade', function () {
    const v2 = MIGRATIONS.find((m) => m.version === 2)!;
    for (const table of ['job_runs', 'job_logs']) {
      const ddl = v2.statements.find((st) => st.startsWith(`CREATE TABLE {schema}.[${table}]`))!;
      expect(ddl, table).to.match(/seq bigint IDENTITY\(1, 1\) NOT NULL/);
      expect(ddl, table).to.match(new RegExp(`PRIMARY KEY CLUSTERED \\(job_id, seq\\)`));
      expect(ddl, table).to.match(/FOREIGN KEY \(job_id\) REFERENCES \{schema\}\.\[jobs\] \(id\) ON DELETE CASCADE/);
      // the key column must carry the jobs key's collation, or the foreign key cannot be created
      expect(ddl, table).to.match(/job_id char\(36\) COLLATE Latin1_General_100_BIN2 NOT NULL/);
    }
    const logs = v2.statements.find((st) => st.includes('[job_logs]'))!;
    expect(logs).to.contain('message nvarchar(4000) NOT NULL'); // MAX_LOG_LINE_CHARS UTF-16 units
    const runs = v2.statements.find((st) => st.includes('[job_runs]'))!;
    expect(runs).to.contain("CHECK (state IN ('done', 'retry', 'failed', 'cancelled', 'lease-lost', 'released'))");
    expect(v2.statements.some((st) => st.startsWith('CREATE TABLE {schema}.[executors]'))).to.equal(true);
  });

  it('are all printed by the migrations bin, v4 included', function () {
    const bin = fileURLToPath(new URL('../src/bin/print-migrations.js', import.meta.url));
    const out = execFileSync(process.execPath, [bin, '--schema', 'printed'], { encoding: 'utf8' });
    expect(out).to.equal(migrationScript(schemaNames('printed')));
    expect(out).to.contain(`migrations up to version ${LATEST_VERSION}.`);
    expect(LATEST_VERSION).to.equal(4);
    for (const m of MIGRATIONS) expect(out).to.contain(`VALUES (${m.version}, N'${m.name}', '${migrationChecksum(m)}'`);
    expect(out).to.contain('CREATE TABLE [printed].[job_runs]');
    expect(out).to.contain('ALTER TABLE [printed].[jobs] ADD started_at datetime2(3) NULL');
    expect(out).to.contain('ALTER TABLE [printed].[jobs] ADD pinned_host nvarchar(255) NULL');
    expect(out).to.contain('INCLUDE (pinned_host)');
    expect(out).to.contain('CREATE TABLE [printed].[job_dependencies]');
  });

  it('v4 keeps every existing row valid: defaults that mean what rows had, constraints that only add', function () {
    const v4 = MIGRATIONS.find((m) => m.version === 4)!;
    const adds = v4.statements.filter((st) => /^ALTER TABLE \{schema\}\.\[jobs\] ADD [a-z_]+ /.test(st));
    for (const st of adds) {
      // a new column is nullable, or NOT NULL with a constant default an existing row takes
      expect(st, st).to.match(/ NULL$| NOT NULL CONSTRAINT \[DF_jobs_\w+\] DEFAULT (0|1|'stored')$/);
    }
    expect(v4.statements).to.include(
      "ALTER TABLE {schema}.[jobs] ADD CONSTRAINT [CK_jobs_status] CHECK (status IN ('waiting', 'new', 'processing', 'retry', 'done', 'failed', 'cancelled'))",
    );
    // the dropped status check is replaced before anything else: no moment without it in the same transaction
    expect(v4.statements[0]).to.equal('ALTER TABLE {schema}.[jobs] DROP CONSTRAINT [CK_jobs_status]');
    // the new unique index exists before the old one goes
    const held = v4.statements.findIndex((st) => st.includes('[UX_jobs_unique_held]'));
    const dropOld = v4.statements.findIndex((st) => st.startsWith('DROP INDEX [UX_jobs_unique_key]'));
    expect(held).to.be.greaterThan(-1);
    expect(dropOld).to.be.greaterThan(held);
    const claimable = v4.statements.find((st) => st.startsWith('CREATE NONCLUSTERED INDEX [IX_jobs_claimable]'))!;
    expect(claimable).to.contain(
      "(queue, priority DESC, run_at, id) INCLUDE (pinned_host) WHERE status IN ('new', 'retry')",
    );
    const deps = v4.statements.find((st) => st.startsWith('CREATE TABLE {schema}.[job_dependencies]'))!;
    expect(deps).to.match(/FOREIGN KEY \(child_id\) REFERENCES \{schema\}\.\[jobs\] \(id\) ON DELETE CASCADE/);
    expect(deps).to.match(/child_id char\(36\) COLLATE Latin1_General_100_BIN2 NOT NULL/);
    expect(deps).to.not.match(/REFERENCES[^\n]*\(parent_id\)|FOREIGN KEY \(parent_id\)/);
  });
});
