import { OddJobError } from '../errors.js';

/** `create` was given a name that another schedule already has. Names are unique per store. */
export class ScheduleExistsError extends OddJobError {
  constructor(readonly scheduleName: string) {
    super(`a schedule named "${scheduleName}" already exists`);
  }
}

/** The named schedule is not (or no longer) stored. */
export class ScheduleNotFoundError extends OddJobError {
  constructor(readonly scheduleName: string) {
    super(`no schedule named "${scheduleName}"`);
  }
}

/**
 * A change to a schedule kept losing its compare-and-set to other writers (schedulers advancing it,
 * other managers editing it). Rare: it takes many writes to one schedule within a few milliseconds.
 * Nothing was written; the call may simply be repeated.
 */
export class ScheduleConflictError extends OddJobError {
  constructor(
    readonly scheduleName: string,
    attempts: number,
  ) {
    super(
      `schedule "${scheduleName}" changed under ${attempts} consecutive attempts to update it; nothing was written`,
    );
  }
}
