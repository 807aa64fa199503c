// What a sequence definition is made of: steps, their start rules, their job options. The shapes
// users write; validation and freezing are in define.ts.
import type { DependencyWhen } from '../flow.js';
import type { JobCall, JobOptions } from '../job.js';
import type { CallRecorder } from '../record-call.js';
import type { JobClass } from '../registry.js';

/**
 * When a step starts, relative to earlier steps (by name). A step without a rule starts at once
 * when its run is started. Each rule maps onto the store's dependencies (flow.ts), so it is the
 * store that releases or skips a step, in the same write as its parents' end:
 * - on-success: every step named ended done (`after … when 'succeeded'`);
 * - on-failure: every step named ended failed (`when 'failed'`; a cancelled or skipped step has not
 *   failed);
 * - always: every step named ended, however (`when 'finished'`; also after a skipped step);
 * - on-mixed: of the steps named (two or more), some ended done and some did not (`afterRule 'mixed'`);
 * - each: per step, the outcome to wait for, e.g. `{ extract: 'succeeded', check: 'failed' }`.
 * A step whose rule cannot hold any more is skipped: it ends `cancelled` with a DependencyError.
 */
export type StartRule =
  | { kind: 'on-success'; steps: readonly string[] }
  | { kind: 'on-failure'; steps: readonly string[] }
  | { kind: 'always'; steps: readonly string[] }
  | { kind: 'on-mixed'; steps: readonly string[] }
  | { kind: 'each'; parents: readonly { step: string; when: DependencyWhen }[] };

export type StartRuleKind = StartRule['kind'];

export const START_RULE_KINDS: readonly StartRuleKind[] = Object.freeze([
  'on-success',
  'on-failure',
  'always',
  'on-mixed',
  'each',
]);

/** Starts when every named step ended done. */
export function onSuccess(...steps: [string, ...string[]]): StartRule {
  return { kind: 'on-success', steps };
}

/** Starts when every named step ended failed: the failure branch. */
export function onFailure(...steps: [string, ...string[]]): StartRule {
  return { kind: 'on-failure', steps };
}

/** Starts when every named step ended, whatever the outcome: clean-up. */
export function always(...steps: [string, ...string[]]): StartRule {
  return { kind: 'always', steps };
}

/** Starts when, of the named steps (at least two), some ended done and some did not. */
export function onMixed(...steps: [string, string, ...string[]]): StartRule {
  return { kind: 'on-mixed', steps };
}

/** Starts when each named step ended as given: `whenSteps({ extract: 'succeeded', check: 'failed' })`. */
export function whenSteps(parents: Readonly<Record<string, DependencyWhen>>): StartRule {
  return { kind: 'each', parents: Object.entries(parents).map(([step, when]) => ({ step, when })) };
}

/**
 * The job options a step may carry: everything but what the sequence itself sets on each step job
 * (its dependencies, its sequence tag, and the unique key that makes a start idempotent).
 */
export type StepJobOptions = Omit<JobOptions, (typeof SEQUENCE_OWNED_OPTIONS)[number]>;

/** Job options the sequence sets on every step itself; a step or an override giving one is refused. */
export const SEQUENCE_OWNED_OPTIONS = ['after', 'afterRule', 'sequence', 'uniqueKey', 'uniqueScope'] as const;

/** The job options a step (or an override) may give; any other key is refused, so a typo is not ignored. */
export const STEP_OPTION_KEYS = [
  'queue',
  'runAt',
  'delayMs',
  'retry',
  'metadata',
  'pinnedHost',
  'priority',
  'concurrencyKey',
  'concurrencyLimit',
  'alreadyRunning',
] as const satisfies readonly (keyof JobOptions)[];

// Fails to compile when JobOptions gains an option neither list names: decide which it is.
type Unsorted = Exclude<keyof JobOptions, (typeof STEP_OPTION_KEYS)[number] | (typeof SEQUENCE_OWNED_OPTIONS)[number]>;
const everyOptionSorted: [Unsorted] extends [never] ? true : Unsorted = true;
void everyOptionSorted;

interface StepCommon {
  /** Unique within the sequence; what rules, overrides and run views name the step by. */
  name: string;
  /** When the step starts; without one it starts as soon as the run is started. */
  start?: StartRule;
  options?: StepJobOptions;
}

/**
 * One step: a typed call of a registered class's method, or a plain JobCall (which also covers
 * program jobs: `programJob('backup', ['--full'])` from @oddjob/programs is one).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type SequenceStep<T = any> = StepCommon & ({ target: JobClass<T>; call: CallRecorder<T> } | { call: JobCall });

/**
 * Types a step's call against its class (in a plain array `j` would be `any`):
 * `step({ name: 'extract', target: EtlJob, call: (j) => j.extract(day) })`.
 */
export function step<T>(s: StepCommon & { target: JobClass<T>; call: CallRecorder<T> }): SequenceStep<T>;
export function step(s: StepCommon & { call: JobCall }): SequenceStep;
export function step(s: SequenceStep): SequenceStep {
  return s;
}

/** What `defineSequence` takes. */
export interface SequenceSpec {
  /** The sequence's name (as a target or schedule name: 1 to 200 of letters, digits, `_ . : - /`). */
  name: string;
  /** In the order their jobs are added (a step may still name a later one in its rule). */
  steps: readonly SequenceStep[];
}

/** A parent of a defined step: the index of the step it waits for, and the outcome. */
export interface DefinedParent {
  index: number;
  step: string;
  when: DependencyWhen;
}

/** One step of a checked definition. */
export interface DefinedStep {
  readonly name: string;
  readonly index: number;
  /** The call as written: typed (`target` a class) or plain. */
  readonly job: { target: JobClass; call: CallRecorder<unknown> } | { call: JobCall };
  readonly start: StartRule | null;
  /** The parents the rule names, in the rule's order; [] without a rule. */
  readonly parents: readonly DefinedParent[];
  readonly options: Readonly<StepJobOptions>;
}

/** A checked, frozen sequence definition: what a SequenceRegistry holds and startSequence runs. */
export interface SequenceDefinition {
  readonly name: string;
  readonly steps: readonly DefinedStep[];
}

/** The parent dependencies a start rule stands for, with the store's afterRule. */
export function ruleDependencies(rule: StartRule): {
  afterRule: 'each' | 'mixed';
  parents: { step: string; when: DependencyWhen }[];
} {
  switch (rule.kind) {
    case 'on-success':
      return { afterRule: 'each', parents: rule.steps.map((s) => ({ step: s, when: 'succeeded' })) };
    case 'on-failure':
      return { afterRule: 'each', parents: rule.steps.map((s) => ({ step: s, when: 'failed' })) };
    case 'always':
      return { afterRule: 'each', parents: rule.steps.map((s) => ({ step: s, when: 'finished' })) };
    case 'on-mixed':
      // 'mixed' ignores each parent's when; 'finished' says so in the stored record too.
      return { afterRule: 'mixed', parents: rule.steps.map((s) => ({ step: s, when: 'finished' })) };
    case 'each':
      return { afterRule: 'each', parents: rule.parents.map((p) => ({ step: p.step, when: p.when })) };
  }
}
