import { describeScheduleStoreContract } from '@oddjob/core/testing';
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
