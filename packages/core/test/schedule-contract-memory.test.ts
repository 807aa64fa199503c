import { MemoryJobStore } from '../src/memory/memory-store.js';
import { describeScheduleStoreContract } from '../src/testing/schedule-contract.js';

describeScheduleStoreContract('memory', async (clock) => {
  const store = new MemoryJobStore({ clock });
  return {
    writer: store,
    manager: store,
    admin: store,
    schedules: store,
    corruptJobArgs: async () => {
      throw new Error('not needed by the schedule contract');
    },
    close: () => store.close(),
  };
});
