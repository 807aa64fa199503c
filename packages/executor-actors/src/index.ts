import 'reflect-metadata';

export { JobExecutorShell, ShellStateError, type ShellOptions, type ShellState } from './shell.js';
export {
  JobQueueCoordinator,
  type CoordinatorClass,
  type CoordinatorInit,
  type CoordinatorState,
  type SaturationInfo,
} from './coordinator.js';
export type { QueueOptions, ResolvedQueueOptions, StopOptions } from './options.js';
export { DEFAULT_STOP_TIMEOUT_MS, FLUSH_GRACE_MS } from './options.js';
export { InversifyContainerFactory, type InversifyContainerFactoryOptions } from './inversify-container-factory.js';
export type { ScheduleTicker } from './scheduler-loop.js';
export type { WorkerState } from './worker.js';
export type { RunState, AbortReason } from './running-job.js';
export type { RunResult, WorkerMessage, CoordinatorMessage, LayerMessage } from './messages.js';
export { defaultLogger, silentLogger } from './logger.js';
export { MAX_WRITE_BATCH } from './queue-layer.js';
