import { JobAbortError, OddJobError } from '@oddjob/core';

/**
 * A stored program job that the executor's allow-list does not permit: an unknown entry, an
 * executable path, arguments or environment the entry does not allow. Retrying cannot make it
 * allowed, so it is a JobAbortError (never retried), and nothing was spawned.
 */
export class ProgramRefusedError extends JobAbortError {
  constructor(
    readonly program: string,
    reason: string,
  ) {
    super(`program "${program}" refused: ${reason}`);
  }
}

/** The program could not be started (missing executable, permission denied). A host setup problem: not retried. */
export class ProgramStartError extends JobAbortError {
  constructor(
    readonly program: string,
    readonly code: string,
    detail: string,
  ) {
    super(`program "${program}" could not start (${code}): ${detail}`);
  }
}

/** What every failed run carries: how it ended and the end of what it wrote to stderr. */
export interface ProgramOutcome {
  readonly program: string;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly durationMs: number;
  readonly stderrTail: string;
}

function ending(o: ProgramOutcome): string {
  return o.signal !== null ? `was killed by ${o.signal}` : `exited with code ${o.exitCode}`;
}

function withTail(message: string, tail: string): string {
  return tail.length === 0 ? message : `${message}; stderr tail:\n${tail}`;
}

/** A constructor of `Base`'s instances that also carry a ProgramOutcome. */
type OutcomeErrorClass<Base extends OddJobError> = new (o: ProgramOutcome, summary: string) => Base & ProgramOutcome;

/**
 * An error class over `Base` that carries a ProgramOutcome as its own fields. A failed run and an
 * aborted one carry the same facts but need different bases (only the abort is a JobAbortError),
 * so the fields and their copying are written once here. TypeScript cannot extend a constructor
 * whose instance type is a type parameter, so the class is written over OddJobError's constructor
 * and its type then names `Base` again (the object is a `Base` at run time: it extends `base`).
 */
function carryingOutcome<Base extends OddJobError>(base: new (message: string) => Base): OutcomeErrorClass<Base> {
  const Parent = base as unknown as typeof OddJobError;
  class WithOutcome extends Parent implements ProgramOutcome {
    readonly program: string;
    readonly exitCode: number | null;
    readonly signal: string | null;
    readonly durationMs: number;
    readonly stderrTail: string;
    /** `summary` is the message before the stderr tail. */
    constructor(o: ProgramOutcome, summary: string) {
      super(withTail(summary, o.stderrTail));
      ({
        program: this.program,
        exitCode: this.exitCode,
        signal: this.signal,
        durationMs: this.durationMs,
        stderrTail: this.stderrTail,
      } = o);
    }
  }
  return WithOutcome as unknown as OutcomeErrorClass<Base>;
}

/** The program ended with an exit code that is not a success code, or by a signal. Retried as the job's policy says. */
export class ProgramFailedError extends carryingOutcome(OddJobError) {
  constructor(o: ProgramOutcome) {
    super(o, `program "${o.program}" ${ending(o)}`);
  }
}

/** The program exited with one of its "do not retry" codes: the job fails at once. */
export class ProgramAbortError extends carryingOutcome(JobAbortError) {
  constructor(o: ProgramOutcome) {
    super(o, `program "${o.program}" ${ending(o)}, a code that is not retried`);
  }
}

/** The program ran past its own timeout (the entry's or the job's) and its process group was killed. Retried. */
export class ProgramTimeoutError extends OddJobError {
  constructor(
    readonly program: string,
    readonly timeoutMs: number,
    readonly stderrTail: string,
  ) {
    super(withTail(`program "${program}" timed out after ${timeoutMs} ms; its process group was killed`, stderrTail));
  }
}

/** The job was aborted (cancel, executor timeout, lost lease, shutdown) and the program's process group was killed. */
export class ProgramKilledError extends OddJobError {
  constructor(
    readonly program: string,
    reason: unknown,
  ) {
    super(
      `program "${program}" was stopped because its job was aborted (${describe(reason)}); its process group was killed`,
      { cause: reason },
    );
  }
}

function describe(reason: unknown): string {
  if (reason instanceof Error) return `${reason.name}: ${reason.message}`;
  return typeof reason === 'string' ? reason : 'aborted';
}
