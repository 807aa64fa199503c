import type { IJobQueueAdder } from '../adder.js';
import { jobContext } from '../context.js';
import { JobAbortError } from '../errors.js';
import type { JobCall } from '../job.js';
import { defaultRegistry, type JobRegistry } from '../registry.js';
import type { SequenceOverrides } from './overrides.js';
import type { SequenceRegistry } from './sequence-registry.js';
import { addSequenceRun, type StartedRun } from './start.js';

/** The reserved target name of starter jobs: a job of it starts a run of a sequence. */
export const SEQUENCE_TARGET = 'oddjob.sequence';
export const SEQUENCE_METHOD = 'start';

/** What a starter needs from the executor it runs in. */
export interface SequenceStarterDeps {
  /** The executor's own definitions: a starter job names a sequence, the code defines it. */
  sequences: SequenceRegistry;
  /** An adder for the store the starter job came from (`tenant` as jobContext().tenant). */
  adderFor(tenant: string | undefined): IJobQueueAdder<unknown>;
}

/**
 * The job class behind `oddjob.sequence`: `start(name, overrides)` adds a run of the sequence
 * `name` from the executor's SequenceRegistry, to the store the starter job came from. Schedules
 * reach sequences through it (scheduleSequence), with no store knowing what a sequence is.
 *
 * Idempotent, so a crash cannot start a run twice: the run's id is the starter job's own id, and
 * every step job carries the unique key `oddjob.sequence:<run>:<step>`. A starter that added its run
 * and died before its outcome was written runs again when its lease expires, adds nothing, and
 * answers the same run and jobs. (A starter job requeued by hand also answers its old run: to start
 * another run, add another starter job.)
 *
 * The executor's shell builds it with its dependencies (the `sequences` shell option); built by
 * any other container it has none and fails, naming the option. An unknown sequence name or bad
 * overrides fail the job at once (JobAbortError): retrying cannot make a definition appear.
 */
export class SequenceStarter {
  constructor(private readonly deps?: SequenceStarterDeps) {}

  async start(name: string, overrides: SequenceOverrides = {}): Promise<StartedRun> {
    const ctx = jobContext();
    if (this.deps === undefined) {
      throw new JobAbortError(
        `the executor running job ${ctx.jobId} has no sequences: give its shell the \`sequences\` option (a SequenceRegistry)`,
      );
    }
    if (typeof name !== 'string') throw new JobAbortError('a sequence starter job needs a sequence name');
    const definition = this.deps.sequences.get(name);
    return addSequenceRun(this.deps.adderFor(ctx.tenant), definition, { runId: ctx.jobId, overrides });
  }
}

/** Registers the starter's target name (SEQUENCE_TARGET) with `registry`; doing it again does nothing. */
export function registerSequenceStarter(registry: JobRegistry = defaultRegistry): void {
  registry.register(SEQUENCE_TARGET, SequenceStarter);
}

/**
 * The plain call of a starter job, for addJob and schedules: `adder.addJob(sequenceJob('etl', {
 * load: { args: ['2030-01-01'] } }), { queue: 'control' })`. The run's id is the job's id.
 */
export function sequenceJob(name: string, overrides: SequenceOverrides = {}): JobCall {
  return { target: SEQUENCE_TARGET, method: SEQUENCE_METHOD, args: [name, overrides] };
}
