import { recordCall, type CallRecorder } from '../record-call.js';
import { serializeArgs } from '../serializer.js';
import { checkStepOptions } from './define.js';
import type { DefinedStep, SequenceDefinition, StepJobOptions } from './definition.js';
import { SequenceOverrideError } from './errors.js';

/** What one run may change of a step: its arguments (all of them, replacing the defined ones) and job options. */
export interface StepOverride extends StepJobOptions {
  args?: readonly unknown[];
}

/** Per step name, what this run changes. */
export type SequenceOverrides = Readonly<Record<string, StepOverride>>;

/**
 * Checks a run's overrides against the definition: every key a step of it, every value an object of
 * `args` and step job options (as a step's own options are checked). Throws SequenceOverrideError
 * (a JobAbortError: a starter job with bad overrides fails at once) naming the step.
 */
export function checkOverrides(definition: SequenceDefinition, overrides: unknown): SequenceOverrides {
  if (overrides === undefined) return {};
  if (overrides === null || typeof overrides !== 'object' || Array.isArray(overrides)) {
    throw new SequenceOverrideError(definition.name, null, 'must be an object of { [step]: { args?, ...options } }');
  }
  const names = new Set(definition.steps.map((s) => s.name));
  for (const [step, override] of Object.entries(overrides)) {
    const fail = (detail: string): never => {
      throw new SequenceOverrideError(definition.name, step, detail);
    };
    if (!names.has(step)) fail(`the sequence has no such step (its steps: ${[...names].join(', ')})`);
    if (override === null || typeof override !== 'object' || Array.isArray(override)) {
      fail('must be an object of { args?, ...job options }');
    }
    const { args, ...options } = override as StepOverride;
    if (args !== undefined) {
      if (!Array.isArray(args)) fail('args must be an array (it replaces every argument of the step)');
      try {
        serializeArgs([...args]);
      } catch (err) {
        fail(err instanceof Error ? err.message : String(err));
      }
    }
    checkStepOptions(options, fail);
  }
  return overrides as SequenceOverrides;
}

/** A step's job call and options for one run: the definition's, with the run's override applied. */
export function overriddenStep(
  step: DefinedStep,
  override: StepOverride | undefined,
): { job: DefinedStep['job']; options: StepJobOptions } {
  if (override === undefined) return { job: step.job, options: step.options };
  const { args, ...options } = override;
  const merged = { ...step.options, ...options };
  if (args === undefined) return { job: step.job, options: merged };
  const job = step.job;
  if ('target' in job) {
    // The typed call is recorded for its method only, then called again with the new arguments, so
    // the adder still checks the method against the class.
    const { method } = recordCall(job.call);
    const call: CallRecorder<unknown> = (j) => (j as Record<string, (...a: unknown[]) => unknown>)[method](...args);
    return { job: { target: job.target, call }, options: merged };
  }
  return { job: { call: { ...job.call, args: [...args] } }, options: merged };
}
