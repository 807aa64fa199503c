import { JobAbortError, OddJobError } from '../errors.js';

/**
 * A sequence definition that cannot run: thrown by `defineSequence` (and `SequenceRegistry.define`),
 * so a broken definition fails where it is written, at start-up, not when its first run is due.
 * `step` names the step at fault when there is one.
 */
export class SequenceDefinitionError extends OddJobError {
  constructor(
    readonly sequence: string,
    readonly step: string | null,
    detail: string,
  ) {
    super(step === null ? `sequence "${sequence}": ${detail}` : `sequence "${sequence}", step "${step}": ${detail}`);
  }
}

/**
 * A sequence name no definition in the registry has. A JobAbortError, so a starter job (a schedule
 * naming a sequence this executor does not define) fails at once instead of retrying: no retry can
 * make a definition appear.
 */
export class UnknownSequenceError extends JobAbortError {
  constructor(
    readonly sequence: string,
    known: readonly string[],
  ) {
    super(
      `no sequence is defined as "${sequence}" (defined: ${known.length === 0 ? 'none' : known.map((n) => `"${n}"`).join(', ')})`,
    );
  }
}

/**
 * Overrides handed to a run that it cannot take: a step the definition does not have, an option a
 * step may not set, arguments that are not an array. Also a JobAbortError, for the same reason.
 */
export class SequenceOverrideError extends JobAbortError {
  constructor(
    readonly sequence: string,
    readonly step: string | null,
    detail: string,
  ) {
    super(
      step === null
        ? `sequence "${sequence}" overrides: ${detail}`
        : `sequence "${sequence}" overrides for step "${step}": ${detail}`,
    );
  }
}
