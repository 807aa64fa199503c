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
  constructor(
    readonly target: string,
    detail = 'is not registered',
  ) {
    super(`job target "${target}" ${detail}`);
  }
}

/**
 * A method name that is not a method defined on the target class's own prototype. Names read from
 * storage resolve only to such methods, never to inherited ones (`constructor`, `toString`, ...).
 */
export class UnknownJobMethodError extends OddJobError {
  constructor(
    readonly target: string,
    readonly method: string,
  ) {
    super(`job target "${target}" has no own method "${method}"`);
  }
}

/** An argument (or metadata value) that cannot be stored with type fidelity. Raised at enqueue. */
export class JobArgumentError extends OddJobError {
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`${path}: ${reason}`);
  }
}

/** Stored job data (arguments, a row, a file) that cannot be read back. The job is failed, never run. */
export class CorruptJobError extends OddJobError {
  constructor(
    readonly jobId: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`job ${jobId} has corrupt stored data: ${reason}`, options);
  }
}

/** An option passed to addJob / startJobQueue / a store that is out of range or of the wrong shape. */
export class InvalidOptionError extends OddJobError {
  constructor(
    readonly option: string,
    reason: string,
  ) {
    super(`invalid option "${option}": ${reason}`);
  }
}

/**
 * A job's `after` named jobs the store does not hold (never added, or purged before the child was
 * added). Nothing of the batch was written.
 */
export class UnknownParentError extends OddJobError {
  constructor(readonly parentIds: readonly string[]) {
    super(
      `invalid option "after": ${parentIds.length === 1 ? 'job' : 'jobs'} ${parentIds.join(', ')} ${parentIds.length === 1 ? 'is' : 'are'} not in the store (never added, or purged); nothing was added`,
    );
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
  constructor(
    readonly jobId: string,
    readonly timeoutMs: number,
  ) {
    super(`job ${jobId} timed out after ${timeoutMs} ms`);
  }
}

/** The job was given back unfinished because its executor shut down. */
export class ShutdownError extends OddJobError {
  constructor() {
    super('executor is shutting down');
  }
}

/** `jobContext()` was called outside a job run (no executor is running a job in this async context). */
export class NoJobContextError extends OddJobError {
  constructor() {
    super(
      'jobContext() was called outside a job run: it works only inside a job method run by an executor (and what it calls or awaits)',
    );
  }
}

/** `waitForJob` (or another by-id call that must find its job) was given an id no stored job has. */
export class JobNotFoundError extends OddJobError {
  constructor(
    readonly jobId: string,
    detail = 'does not exist',
  ) {
    super(`job ${jobId} ${detail}`);
  }
}

/** `waitForJob` gave up: the job was not final within `timeoutMs`. */
export class WaitTimeoutError extends OddJobError {
  constructor(
    readonly jobId: string,
    readonly timeoutMs: number,
    readonly lastStatus: string,
  ) {
    super(`job ${jobId} was not final after ${timeoutMs} ms (it is ${lastStatus})`);
  }
}

/**
 * A job's return value cannot be stored: it is too large, or it holds something the serializer
 * cannot keep with its type. The job fails (never retried: the same code returns the same value),
 * rather than keeping a silently truncated or bent result.
 */
export class JobResultError extends OddJobError {
  constructor(
    readonly jobId: string,
    reason: string,
  ) {
    super(`job ${jobId} returned a value that cannot be stored: ${reason}`);
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

/**
 * Turns anything a job threw into a storable JobError (non-Error throws included). Never throws:
 * a job can throw a revoked Proxy, a null-prototype cyclic object, an Error whose getters throw, a
 * BigInt or a Symbol, and its result must still be recorded (one that threw here used to wedge the
 * coordinator's result loop). Every read of the thrown value is guarded; the worst case is a
 * placeholder message.
 */
export function toJobError(err: unknown): JobError {
  try {
    if (isErrorLike(err)) {
      const name = safeText(() => (err as Error).name, 'Error');
      const message = safeText(() => (err as Error).message, "(the error's message could not be read)");
      const stack = safeRead(() => (err as Error).stack);
      return typeof stack === 'string' ? { name, message, stack } : { name, message };
    }
    return { name: 'NonErrorThrown', message: describeThrown(err) };
  } catch {
    return { name: 'NonErrorThrown', message: '(a value that cannot be described was thrown)' };
  }
}

function isErrorLike(err: unknown): boolean {
  // instanceof itself can throw (a revoked Proxy's getPrototypeOf trap).
  try {
    return err instanceof Error;
  } catch {
    return false;
  }
}

function safeRead(read: () => unknown): unknown {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/** A string property of the thrown value, or the fallback when reading it throws or it is not text. */
function safeText(read: () => unknown, fallback: string): string {
  const value = safeRead(read);
  if (typeof value === 'string') return value;
  if (value === undefined || value === null) return fallback;
  return describeThrown(value);
}

function describeThrown(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'symbol' || typeof value === 'bigint') return safeRead(() => value.toString()) as string;
  try {
    const json = JSON.stringify(value);
    if (typeof json === 'string') return json;
  } catch {
    // cyclic, BigInt inside, a throwing toJSON or getter, a revoked Proxy: try String() next
  }
  try {
    return String(value);
  } catch {
    // a null-prototype object has no toString; a revoked Proxy throws on every operation
  }
  return `(a thrown ${typeof value} that cannot be converted to text)`;
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

/**
 * The error on the run record of an attempt whose lease expired and whose job a later claim took
 * over (the attempt's executor died, hung or lost its database). Same name as leaseExpiredError.
 */
export function leaseTakeoverError(owner: string): JobError {
  return {
    name: 'LeaseExpiredError',
    message: `lease held by "${owner}" expired while the job was running; the job was claimed again`,
  };
}
