export { CRON_MACROS, CronSchedule, DEFAULT_TIME_ZONE, ONCE, checkExpressionShape, normalizeTimeZone } from './cron.js';
export { ScheduleConflictError, ScheduleExistsError, ScheduleNotFoundError } from './errors.js';
export {
  MAX_CATCH_UP_RUNS,
  SCHEDULE_METADATA_KEY,
  manualJobKey,
  planFiring,
  scheduleJobKey,
  scheduledJob,
  validateMisfire,
  type FiringPlan,
  type ScheduleJobOrigin,
} from './firing.js';
export { ScheduleManager } from './schedule-manager.js';
export {
  type ScheduleInfo,
  type ScheduleManagerOptions,
  type ScheduleOptions,
  type SchedulePatch,
  type ScheduledCall,
} from './schedule-options.js';
export { Scheduler, type SchedulerOptions } from './scheduler.js';
