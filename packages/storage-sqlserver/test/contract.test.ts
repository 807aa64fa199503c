import { randomBytes } from 'node:crypto';
import { describeScheduleStoreContract, describeStorageContract, type HarnessFactory } from '@oddjob/core/testing';
import { SqlServerJobStore } from '../src/index.js';
import { sqlServerHarness } from '../src/testing.js';

/**
 * The core storage contract against a real SQL Server, when ODDJOB_MSSQL_URL names one
 * (e.g. mssql://sa:Passw0rd!@127.0.0.1:1433/master?encrypt=true&trustServerCertificate=true),
 * the history part (runs, logs, results, waitForJob, the executor registry) included: the store is
 * also the harness's executor registry. Every test gets its own schema, dropped when the test ends. Without the variable the suite is
 * reported as skipped, with the reason, in one line.
 */
const url = process.env.ODDJOB_MSSQL_URL;

if (url) {
  const harness: HarnessFactory = async (clock) => {
    const schema = `oddjob_test_${randomBytes(6).toString('hex')}`;
    const store = await SqlServerJobStore.open({ connection: url, schema, clock, pool: { max: 10 } });
    if (store.engine !== 'sqlserver' && store.engine !== 'babelfish')
      throw new Error(`store.engine is ${String(store.engine)}`);
    return { ...sqlServerHarness(store), executors: store };
  };
  describeStorageContract('sqlserver', harness);
  describeScheduleStoreContract('sqlserver', harness);
} else {
  const reason =
    'storage contract: sqlserver SKIPPED: ODDJOB_MSSQL_URL is not set (no SQL Server on this machine; see packages/storage-sqlserver/README.md)';
  console.log(reason);
  describe('storage contract: sqlserver', function () {
    it.skip(reason);
  });
}
