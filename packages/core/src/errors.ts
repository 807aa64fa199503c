/**
 * Error classes. Each sets `name` so that it survives serialization into a job's lastError and can be
 * matched by name after a round trip through storage.
 */

/** Base class so that callers can tell OddJob's own errors from everything else. */
export class OddJobError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * Thrown by a job to say "retrying cannot help" (bad input, failed validation). The job goes straight
 * to `failed` whatever attempts remain — the analogue of BullMQ's UnrecoverableError.
 */
export class JobAbortError extends OddJobError {}

/** A job target (class) name that is not registered with this registry/executor. Never retried. */
export class UnknownJobTargetError extends OddJobError {
  constructor(readonly target: string, detail = 'is not registered') {
    super(`job target "${target}" ${detail}`);
  }
}

/**
 * A method name that is not a method defined on the target class's own prototype. Names read from
 * storage resolve only to such methods, never to inherited ones (`constructor`, `toString`, ...).
 */
export class UnknownJobMethodError extends OddJobError {
  constructor(readonly target: string, readonly method: string) {
    super(`job target "${target}" has no own method "${method}"`);
  }
}

/** An argument (or metadata value) that cannot be stored with type fidelity. Raised at enqueue. */
export class JobArgumentError extends OddJobError {
  constructor(readonly path: string, reason: string) {
    super(`${path}: ${reason}`);
  }
}

/** Stored job data (arguments, a row, a file) that cannot be read back. The job is failed, never run. */
export class CorruptJobError extends OddJobError {
  constructor(readonly jobId: string, reason: string, options?: { cause?: unknown }) {
    super(`job ${jobId} has corrupt stored data: ${reason}`, options);
  }
}

/** An option passed to addJob / startJobQueue / a store that is out of range or of the wrong shape. */
export class InvalidOptionError extends OddJobError {
  constructor(readonly option: string, reason: string) {
    super(`invalid option "${option}": ${reason}`);
  }
}

/** The executor no longer holds the job's lease (it expired and someone else claimed it, or it was cancelled). */
export class LeaseLostError extends OddJobError {
  constructor(readonly jobId: string) {
    super(`lease on job ${jobId} was lost; its result was not recorded`);
  }
}

/** A job ran past its timeout and was aborted through its AbortSignal. Counts as a failed attempt. */
export class JobTimeoutError extends OddJobError {
  constructor(readonly jobId: string, readonly timeoutMs: number) {
    super(`job ${jobId} timed out after ${timeoutMs} ms`);
  }
}

/** The job was given back unfinished because its executor shut down. */
export class ShutdownError extends OddJobError {
  constructor() {
    super('executor is shutting down');
  }
}

/** A store was pointed at something that is not (or not yet, or a newer version of) an OddJob store. */
export class StoreSetupError extends OddJobError {}

/** The failure of a job, as stored: enough to show a person and to match on `name`. */
export interface JobError {
  name: string;
  message: string;
  stack?: string;
}

/** Turns anything a job threw into a storable JobError (non-Error throws included). */
export function toJobError(err: unknown): JobError {
  if (err instanceof Error) {
    return err.stack === undefined
      ? { name: err.name, message: err.message }
      : { name: err.name, message: err.message, stack: err.stack };
  }
  let message: string;
  try {
    message = typeof err === 'string' ? err : JSON.stringify(err) ?? String(err);
  } catch {
    message = String(err);
  }
  return { name: 'NonErrorThrown', message };
}

/**
 * The error recorded on a job whose lease expired while it ran and that has no attempts left (its
 * executor most likely died mid-run). Every provider records the same shape, so it can be matched.
 */
export function leaseExpiredError(owner: string): JobError {
  return {
    name: 'LeaseExpiredError',
    message: `lease held by "${owner}" expired while the job was running, and no attempts are left`,
  };
}
