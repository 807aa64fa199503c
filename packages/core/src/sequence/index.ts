export {
  always,
  onFailure,
  onMixed,
  onSuccess,
  ruleDependencies,
  SEQUENCE_OWNED_OPTIONS,
  START_RULE_KINDS,
  STEP_OPTION_KEYS,
  step,
  whenSteps,
  type DefinedParent,
  type DefinedStep,
  type SequenceDefinition,
  type SequenceSpec,
  type SequenceStep,
  type StartRule,
  type StartRuleKind,
  type StepJobOptions,
} from './definition.js';
export { defineSequence, isSequenceDefinition, MAX_SEQUENCE_STEPS } from './define.js';
export { SequenceDefinitionError, SequenceOverrideError, UnknownSequenceError } from './errors.js';
export { SequenceRegistry } from './sequence-registry.js';
export { checkOverrides, type SequenceOverrides, type StepOverride } from './overrides.js';
export {
  addSequenceRun,
  planSequence,
  sequenceStepKey,
  startSequence,
  type StartedRun,
  type StartSequenceOptions,
} from './start.js';
export {
  deriveRunStatus,
  isHandled,
  isStepFinal,
  stepStatusOf,
  type SequenceRunStatus,
  type SequenceRunStep,
  type StepStatus,
} from './run-status.js';
export { cancelSequenceRun, getSequenceRun, listSequenceRuns, type SequenceRun } from './runs.js';
export {
  registerSequenceStarter,
  SEQUENCE_METHOD,
  SEQUENCE_TARGET,
  SequenceStarter,
  sequenceJob,
  type SequenceStarterDeps,
} from './starter.js';
export { scheduleSequence } from './schedule-sequence.js';
