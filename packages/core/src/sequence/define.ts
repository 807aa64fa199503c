import { prepareJob } from '../adder.js';
import { DEPENDENCY_WHENS, type DependencyWhen } from '../flow.js';
import type { JobCall } from '../job.js';
import { METHOD_PATTERN, NAME_PATTERN } from '../patterns.js';
import { recordCall, type CallRecorder } from '../record-call.js';
import { JobRegistry, ownMethod, type JobClass } from '../registry.js';
import { serializeArgs } from '../serializer.js';
import {
  ruleDependencies,
  SEQUENCE_OWNED_OPTIONS,
  START_RULE_KINDS,
  STEP_OPTION_KEYS,
  type DefinedParent,
  type DefinedStep,
  type SequenceDefinition,
  type SequenceSpec,
  type SequenceStep,
  type StartRule,
  type StepJobOptions,
} from './definition.js';
import { SequenceDefinitionError } from './errors.js';

/** A sequence is one addJobs batch; far beyond this a definition is better split into sequences. */
export const MAX_SEQUENCE_STEPS = 1000;

const STEP_KEYS = new Set(['name', 'target', 'call', 'start', 'options']);

/**
 * Checks a sequence definition and freezes it. Refused, with a SequenceDefinitionError naming the
 * sequence and the step: a bad or missing name, no steps, two steps of one name, a call that is not a
 * typed call or a plain JobCall (or whose arguments cannot be stored), job options a job could not
 * take or that the sequence sets itself (after, afterRule, sequence, uniqueKey, uniqueScope), a
 * start rule naming an unknown step or the step itself, an on-mixed rule of fewer than two steps,
 * and rules that wait for each other in a cycle (which could never start).
 *
 * A typed step's call is recorded here once, to check it, and again at every start, so arguments
 * written as expressions (`(j) => j.report(new Date())`) are evaluated when the run starts.
 */
export function defineSequence(spec: SequenceSpec): SequenceDefinition {
  if (spec === null || typeof spec !== 'object')
    throw new SequenceDefinitionError('?', null, 'must be { name, steps }');
  const name = spec.name;
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    throw new SequenceDefinitionError(String(name), null, `the name must match ${NAME_PATTERN}`);
  }
  if (!Array.isArray(spec.steps) || spec.steps.length === 0) {
    throw new SequenceDefinitionError(name, null, 'needs at least one step');
  }
  if (spec.steps.length > MAX_SEQUENCE_STEPS) {
    throw new SequenceDefinitionError(name, null, `has ${spec.steps.length} steps; at most ${MAX_SEQUENCE_STEPS}`);
  }
  const index = new Map<string, number>();
  spec.steps.forEach((s: unknown, i) => {
    const stepName = (s as { name?: unknown } | null)?.name;
    if (typeof stepName !== 'string' || !NAME_PATTERN.test(stepName)) {
      throw new SequenceDefinitionError(name, null, `step ${i} needs a name matching ${NAME_PATTERN}`);
    }
    if (index.has(stepName)) throw new SequenceDefinitionError(name, stepName, 'two steps have this name');
    index.set(stepName, i);
  });
  const steps = (spec.steps as readonly SequenceStep[]).map((s, i) => defineStep(name, s, i, index));
  const cycle = findCycle(steps);
  if (cycle !== null) {
    throw new SequenceDefinitionError(
      name,
      cycle[0],
      `the start rules wait for each other in a cycle (${cycle.join(' → ')}, each waiting for the next), so none of them could start`,
    );
  }
  const definition: SequenceDefinition = Object.freeze({ name, steps: Object.freeze(steps) });
  DEFINED.add(definition);
  return definition;
}

/** Definitions made by defineSequence: only those are known to be checked. */
const DEFINED = new WeakSet<object>();

/** Whether `value` is a definition defineSequence made (checked and frozen). */
export function isSequenceDefinition(value: unknown): value is SequenceDefinition {
  return typeof value === 'object' && value !== null && DEFINED.has(value);
}

function defineStep(sequence: string, s: SequenceStep, i: number, index: ReadonlyMap<string, number>): DefinedStep {
  const fail = (detail: string): never => {
    throw new SequenceDefinitionError(sequence, s.name, detail);
  };
  for (const key of Object.keys(s)) {
    if (!STEP_KEYS.has(key)) fail(`"${key}" is not a step field; known: ${[...STEP_KEYS].join(', ')}`);
  }
  const job = checkCall(s, fail);
  const options = checkStepOptions(s.options ?? {}, fail);
  const start = s.start === undefined ? null : checkRule(s.start, fail);
  const parents: DefinedParent[] =
    start === null
      ? []
      : ruleDependencies(start).parents.map(({ step, when }) => {
          const at = index.get(step);
          if (at === undefined) return fail(`the start rule names "${step}", which is not a step of the sequence`);
          if (at === i) return fail('the start rule names the step itself');
          return { index: at, step, when };
        });
  return Object.freeze({
    name: s.name,
    index: i,
    job: Object.freeze(job),
    start,
    parents: Object.freeze(parents),
    options: Object.freeze({ ...options }),
  });
}

/** Checks the call's shape, the typed call's method, and that its arguments can be stored. */
function checkCall(s: SequenceStep, fail: (d: string) => never): DefinedStep['job'] {
  const target: unknown = (s as { target?: unknown }).target;
  if (target !== undefined) {
    if (typeof target !== 'function') return fail('target must be a class (or leave it out and give a plain call)');
    if (typeof s.call !== 'function') return fail('call must be a function such as (j) => j.method(arg)');
    const recorded = attempt(() => recordCall(s.call as CallRecorder<unknown>), fail);
    attempt(() => ownMethod(target as JobClass, (target as { name: string }).name, recorded.method), fail);
    attempt(() => serializeArgs(recorded.args), fail);
    return { target: target as JobClass, call: s.call as CallRecorder<unknown> };
  }
  const call = s.call as JobCall | null;
  if (call === null || typeof call !== 'object') {
    return fail('needs a call: { target: Class, call: (j) => j.method(...) } or { call: { target, method, args } }');
  }
  if (typeof call.target !== 'string' || !NAME_PATTERN.test(call.target)) {
    return fail(`call.target "${String(call.target)}" must match ${NAME_PATTERN}`);
  }
  if (typeof call.method !== 'string' || !METHOD_PATTERN.test(call.method)) {
    return fail(`call.method "${String(call.method)}" is not a method name`);
  }
  if (!Array.isArray(call.args)) return fail('call.args must be an array');
  attempt(() => serializeArgs(call.args), fail);
  // A copy, so changing the caller's object later cannot change a checked definition.
  return { call: { target: call.target, method: call.method, args: [...call.args] } };
}

/**
 * Checks step options (or an override's) with the adder's own rules, against a stand-in call, so
 * a bad queue or retry policy is refused here with the adder's message and the step's name.
 */
export function checkStepOptions(options: StepJobOptions, fail: (d: string) => never): StepJobOptions {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    return fail('options must be an object of job options');
  }
  for (const key of Object.keys(options)) {
    if ((SEQUENCE_OWNED_OPTIONS as readonly string[]).includes(key)) {
      fail(`"${key}" is set by the sequence itself; a step cannot give it`);
    }
    if (!(STEP_OPTION_KEYS as readonly string[]).includes(key)) {
      fail(`"${key}" is not a job option a step can give; known: ${STEP_OPTION_KEYS.join(', ')}`);
    }
  }
  attempt(() => prepareJob({ call: STAND_IN, options }, STAND_IN_REGISTRY), fail);
  return options;
}

const STAND_IN: JobCall = { target: 'oddjob.sequence-step', method: 'check', args: [] };
const STAND_IN_REGISTRY = new JobRegistry();

function checkRule(rule: StartRule, fail: (d: string) => never): StartRule {
  if (rule === null || typeof rule !== 'object' || !START_RULE_KINDS.includes(rule.kind)) {
    return fail(`start must be a start rule (${START_RULE_KINDS.join(', ')}); use onSuccess('step') and the like`);
  }
  if (rule.kind === 'each') {
    const given: unknown = rule.parents;
    if (!Array.isArray(given) || given.length === 0) return fail('an each rule needs at least one { step, when }');
    const parents = (given as readonly (Partial<{ step: string; when: DependencyWhen }> | null)[]).map((p) => {
      const when = p?.when;
      if (when === undefined || !DEPENDENCY_WHENS.includes(when)) {
        return fail(`when for "${String(p?.step)}" must be one of ${DEPENDENCY_WHENS.join(', ')}`);
      }
      return { step: p!.step as string, when };
    });
    checkNames(
      parents.map((p) => p.step),
      fail,
    );
    return Object.freeze({ kind: 'each', parents: Object.freeze(parents) });
  }
  const given: unknown = rule.steps;
  if (!Array.isArray(given) || given.length === 0) return fail(`an ${rule.kind} rule needs at least one step`);
  const steps = given as readonly string[];
  if (rule.kind === 'on-mixed' && steps.length < 2) {
    return fail('an on-mixed rule needs at least two steps: a mixed outcome is some done and some not');
  }
  checkNames(steps, fail);
  return Object.freeze({ kind: rule.kind, steps: Object.freeze([...steps]) });
}

function checkNames(names: readonly unknown[], fail: (d: string) => never): void {
  const seen = new Set<string>();
  for (const n of names) {
    if (typeof n !== 'string') return fail('the start rule names steps by their name (a string)');
    if (seen.has(n)) fail(`the start rule names "${n}" twice`);
    seen.add(n);
  }
}

/** Runs a check, turning its error into the step's definition error (its message, prefixed with the step). */
function attempt<T>(check: () => T, fail: (d: string) => never): T {
  try {
    return check();
  } catch (err) {
    return fail(err instanceof Error ? err.message : String(err));
  }
}

/** A cycle of step names (first repeated at the end), or null. */
function findCycle(steps: readonly DefinedStep[]): string[] | null {
  const state = new Uint8Array(steps.length); // 0 unvisited, 1 on the path, 2 done
  const path: number[] = [];
  const visit = (i: number): string[] | null => {
    state[i] = 1;
    path.push(i);
    for (const p of steps[i].parents) {
      if (state[p.index] === 1) {
        const loop = path.slice(path.indexOf(p.index)).map((k) => steps[k].name);
        // As the batch's own cycle error prints it: each step waits for the one after it.
        return [...loop, loop[0]];
      }
      if (state[p.index] === 0) {
        const found = visit(p.index);
        if (found !== null) return found;
      }
    }
    state[i] = 2;
    path.pop();
    return null;
  };
  for (let i = 0; i < steps.length; i++) {
    if (state[i] === 0) {
      const found = visit(i);
      if (found !== null) return found;
    }
  }
  return null;
}
