import { OddJobError } from './errors.js';

/**
 * The one family of storage failures that every provider maps its driver's errors into, so the
 * executor, the CLI and users can react to *what kind* of failure it was without knowing the driver.
 * No raw driver error and no plain `Error` leaves a store: the driver's error is kept as `cause`.
 *
 *   StorageError (abstract base)
 *   ├─ StorageUnavailableError   transient: the store could not be reached or kept failing
 *   │                            transiently through its infrastructure retries; try again later
 *   └─ StorageOperationError     permanent: retrying the same call cannot help (syntax, a missing
 *                                table, permission denied, a constraint, a full disk, corrupt data)
 */
export abstract class StorageError extends OddJobError {
  /** True when trying again later may succeed (an outage); false when it cannot (a broken statement). */
  abstract readonly transient: boolean;

  constructor(
    /** Which provider raised it: 'memory', 'fs', 'postgres', 'sqlserver', or a third party's name. */
    readonly provider: string,
    /** The semantic operation that failed: 'claim', 'recordOutcomes', 'addJobs', ... */
    readonly operation: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The store is unreachable or failing transiently; the operation did not happen or its outcome is unknown. */
export class StorageUnavailableError extends StorageError {
  readonly transient = true;
}

/** The operation failed for a reason that retrying cannot fix; the message names the operation and the cause. */
export class StorageOperationError extends StorageError {
  readonly transient = false;
}

/**
 * Whether a failure from a store is worth retrying later. Anything outside the family (a bug in a
 * third-party store, say) is treated as transient, the cautious default: backing off loses nothing,
 * while treating an outage as permanent would stop a queue for good.
 */
export function isTransientStorageFailure(err: unknown): boolean {
  return err instanceof StorageError ? err.transient : true;
}
