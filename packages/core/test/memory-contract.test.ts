import { MemoryJobStore } from '../src/index.js';
import { describeScheduleStoreContract, describeStorageContract, type HarnessFactory } from '../src/testing/index.js';

// One harness for both contracts, as every other store's tests do.
const harness: HarnessFactory = async (clock) => {
  const store = new MemoryJobStore({ clock });
  return {
    writer: store,
    manager: store,
    admin: store,
    schedules: store,
    executors: store,
    // The memory store keeps args as the serialized text; overwrite it the way a bad write would.
    corruptJobArgs: async (id) => {
      (store as unknown as { jobs: Map<string, { args: string }> }).jobs.get(id)!.args = '{"json":[1,2';
    },
    close: () => store.close(),
  };
};

describeStorageContract('memory', harness);
describeScheduleStoreContract('memory', harness);
