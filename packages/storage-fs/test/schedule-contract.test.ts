// Core's schedule contract is not (yet) re-exported from '@oddjob/core/testing', so it is loaded from
// core's build by path (this file runs from dist/test). Once it is exported this becomes a plain
// import { describeScheduleStoreContract } from '@oddjob/core/testing'.
type ScheduleContract = typeof import('../../core/dist/src/testing/schedule-contract.js');
const { describeScheduleStoreContract } = (await import(
  new URL('../../../core/dist/src/testing/schedule-contract.js', import.meta.url).href
)) as ScheduleContract;
import { FileJobStore } from '../src/index.js';
import { removeDir, tempDir } from './helpers.js';

describeScheduleStoreContract('fs', async (clock) => {
  const dir = await tempDir();
  const store = await FileJobStore.open({ dir, create: true, clock, retention: false });
  return {
    writer: store,
    manager: store,
    admin: store,
    schedules: store,
    corruptJobArgs: async () => {
      throw new Error('not needed by the schedule contract');
    },
    close: async () => {
      await store.close();
      await removeDir(dir);
    },
  };
});
