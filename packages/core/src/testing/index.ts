export { TestClock } from './test-clock.js';
export { describeStorageContract, type ContractHarness, type HarnessFactory } from './contract.js';
export { describeScheduleStoreContract } from './schedule-contract.js';
export { newJobFixture } from './new-job.js';
