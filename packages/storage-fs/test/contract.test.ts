import { describeScheduleStoreContract, describeStorageContract, type HarnessFactory } from '@oddjob/core/testing';
import { FileJobStore } from '../src/index.js';
import { corruptJobArgs, removeDir, tempDir } from './helpers.js';

// One harness for both contracts, as every other store's tests do.
const harness: HarnessFactory = async (clock) => {
  const dir = await tempDir();
  // Retention off: the suite moves the clock by days and expects finished jobs to stay until purged.
  const store = await FileJobStore.open({ dir, create: true, clock, retention: false });
  return {
    writer: store,
    manager: store,
    admin: store,
    schedules: store,
    executors: store,
    corruptJobArgs: (jobId) => corruptJobArgs(dir, jobId),
    close: async () => {
      await store.close();
      await removeDir(dir);
    },
  };
};

describeStorageContract('fs', harness);
describeScheduleStoreContract('fs', harness);
