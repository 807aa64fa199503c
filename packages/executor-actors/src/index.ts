import 'reflect-metadata';

export { JobExecutorShell, ShellStateError, type ShellOptions, type ShellState } from './shell.js';
export {
  JobQueueCoordinator,
  type CoordinatorClass,
  type CoordinatorInit,
  type CoordinatorState,
  type QueueFailure,
  type SaturationInfo,
} from './coordinator.js';
export type { QueueOptions, ResolvedQueueOptions, StopOptions } from './options.js';
export { DEFAULT_STOP_TIMEOUT_MS, FLUSH_GRACE_MS } from './options.js';
export type { ExecutorEvents, ExecutorEventName, ExecutorListener } from './events.js';
export type { RunWrapper } from './run-wrappers.js';
export { EXECUTOR_VERSION } from './executor-heartbeat.js';
export { InversifyContainerFactory, type InversifyContainerFactoryOptions } from './inversify-container-factory.js';
export type { ScheduleTicker } from './scheduler-loop.js';
export { defaultLogger, silentLogger } from './logger.js';
export {
  ImmediateRunner,
  JobPersistedError,
  JobNotPersistedError,
  type ImmediateRunnerOptions,
  type ImmediateOptions,
} from './immediate-runner.js';
