import type { IJobQueueAdder, JobSpec } from '../adder.js';
import { InvalidOptionError } from '../errors.js';
import { newJobId } from '../ids.js';
import type { JobOptions } from '../job.js';
import { ruleDependencies, type SequenceDefinition } from './definition.js';
import { checkOverrides, overriddenStep, type SequenceOverrides } from './overrides.js';
import type { SequenceRegistry } from './sequence-registry.js';

export interface StartSequenceOptions<Tx = never> {
  /** Per step: other arguments and job options for this run only (see StepOverride). */
  overrides?: SequenceOverrides;
  /**
   * The run's id (a lowercase UUID); default a new UUID v7, so runs sort by start time. Starting
   * again with the id of a run already stored adds nothing and answers that run (each step job
   * carries the unique key `oddjob.sequence:<run>:<step>`).
   */
  runId?: string;
  /** The provider's transaction: the run exists only if it commits. */
  tx?: Tx;
}

/** The run and its step jobs' ids, by step name. */
export interface StartedRun {
  run: string;
  jobIds: Record<string, string>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The unique key of a run's step job: what makes starting a run twice add it once. */
export function sequenceStepKey(run: string, step: string): string {
  return `oddjob.sequence:${run}:${step}`;
}

/**
 * The addJobs batch of one run: one job per step, in definition order, each tagged { name, run,
 * step } and keyed by sequenceStepKey, its start rule as `after` batch indexes (and afterRule).
 */
export function planSequence(
  definition: SequenceDefinition,
  run: string,
  overrides: SequenceOverrides = {},
): JobSpec<unknown>[] {
  if (typeof run !== 'string' || !UUID.test(run)) throw new InvalidOptionError('runId', 'must be a lowercase UUID');
  const checked = checkOverrides(definition, overrides);
  return definition.steps.map((step) => {
    const { job, options } = overriddenStep(step, checked[step.name]);
    const flow: JobOptions = {
      ...options,
      sequence: { name: definition.name, run, step: step.name },
      uniqueKey: sequenceStepKey(run, step.name),
    };
    if (step.start !== null) {
      flow.after = step.parents.map((p) => ({ job: p.index, when: p.when }));
      flow.afterRule = ruleDependencies(step.start).afterRule;
    }
    return { ...job, options: flow };
  });
}

/**
 * Adds every step of one run of `definition` in ONE addJobs batch, so a run is stored whole or not
 * at all: steps without a start rule are claimable at once, the others wait for their parents and
 * are released or skipped by the store. Answers the run id and the step jobs' ids.
 */
export async function addSequenceRun<Tx>(
  adder: IJobQueueAdder<Tx>,
  definition: SequenceDefinition,
  options: StartSequenceOptions<Tx> = {},
): Promise<StartedRun> {
  const run = options.runId ?? newJobId();
  const specs = planSequence(definition, run, options.overrides);
  const ids = await adder.addJobs(specs, options.tx === undefined ? {} : { tx: options.tx });
  return { run, jobIds: Object.fromEntries(definition.steps.map((s, i) => [s.name, ids[i]])) };
}

/**
 * Starts a run of the sequence `name` from `registry` on demand (see addSequenceRun); answers the
 * run id, which getSequenceRun, listJobs({ sequenceRun }) and cancelSequenceRun take. Unknown names
 * (UnknownSequenceError) and overrides naming an unknown step (SequenceOverrideError) are refused
 * before anything is written.
 */
export async function startSequence<Tx = never>(
  adder: IJobQueueAdder<Tx>,
  registry: SequenceRegistry,
  name: string,
  options: StartSequenceOptions<Tx> = {},
): Promise<string> {
  return (await addSequenceRun(adder, registry.get(name), options)).run;
}
