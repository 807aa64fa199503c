import { describeScheduleStoreContract, describeStorageContract, type HarnessFactory } from '@oddjob/core/testing';
import pg from 'pg';
import { openTestStore, PG_URL, requirePostgres } from './pg-helpers.js';

const harness: HarnessFactory = async (clock) => {
  const { store, schema, close } = await openTestStore({ clock, schema: undefined });
  return {
    writer: store,
    manager: store,
    admin: store,
    schedules: store,
    executors: store,
    // Garbage in the args column, the way a bad write or a hand edit would leave it.
    corruptJobArgs: async (jobId) => {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      try {
        await client.query(`UPDATE ${pg.escapeIdentifier(schema)}.jobs SET args = '{"json":[1,2' WHERE id = $1`, [
          jobId,
        ]);
      } finally {
        await client.end();
      }
    },
    close,
  };
};

describe('postgres', function () {
  before(async function () {
    await requirePostgres(this);
  });

  describeStorageContract('postgres', harness);
  describeScheduleStoreContract('postgres', harness);
});
