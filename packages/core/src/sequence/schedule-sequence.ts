import { InvalidOptionError, UnknownJobTargetError } from '../errors.js';
import type { ScheduleManager } from '../schedule/schedule-manager.js';
import type { ScheduleOptions } from '../schedule/schedule-options.js';
import type { ScheduleRecord } from '../schedule-store.js';
import type { SequenceDefinition } from './definition.js';
import { checkOverrides, type SequenceOverrides } from './overrides.js';
import { SEQUENCE_TARGET, sequenceJob } from './starter.js';

/**
 * Creates or replaces (ScheduleManager.upsert: safe to call at every start) the schedule `name`,
 * whose firings are starter jobs of `definition`: each firing starts one run, its id the starter
 * job's id. The schedule stores the sequence's name and the overrides, never its steps: the
 * executor that runs the starter starts the run from its own definition of that name.
 *
 * The definition is taken (not a bare name) so the overrides are checked against its steps now.
 * The manager's registry must know the starter (`registerSequenceStarter(registry)`), as it must
 * know the target of any schedule.
 */
export async function scheduleSequence(
  manager: ScheduleManager,
  name: string,
  definition: SequenceDefinition,
  options: ScheduleOptions & { overrides?: SequenceOverrides },
): Promise<ScheduleRecord> {
  const { overrides, ...scheduleOptions } = options;
  const checked = checkOverrides(definition, overrides);
  try {
    return await manager.upsert(name, sequenceJob(definition.name, checked), scheduleOptions);
  } catch (err) {
    if (err instanceof UnknownJobTargetError && err.target === SEQUENCE_TARGET) {
      throw new InvalidOptionError(
        'registry',
        `the schedule manager's registry does not know "${SEQUENCE_TARGET}": call registerSequenceStarter(registry) first`,
      );
    }
    throw err;
  }
}
