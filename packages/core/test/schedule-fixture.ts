/**
 * What the schedule tests run against: a memory store on a test clock, with a ScheduleManager and a
 * Scheduler over it that share that clock and the test's registry. One place builds it, so every
 * schedule test file wires the pieces the same way.
 */
import { MemoryJobStore } from '../src/memory/memory-store.js';
import type { JobRegistry } from '../src/registry.js';
import { ScheduleManager } from '../src/schedule/schedule-manager.js';
import { Scheduler } from '../src/schedule/scheduler.js';
import { TestClock } from '../src/testing/test-clock.js';

export interface ScheduleFixture {
  clock: TestClock;
  store: MemoryJobStore;
  manager: ScheduleManager;
  scheduler: Scheduler;
}

/** A fresh fixture whose clock starts at `start`; the caller closes its store. */
export function scheduleFixture(registry: JobRegistry, start: Date | number): ScheduleFixture {
  const clock = new TestClock(start);
  const store = new MemoryJobStore({ clock });
  return {
    clock,
    store,
    manager: new ScheduleManager({ store, writer: store, registry, clock }),
    scheduler: new Scheduler({ store, writer: store, registry, clock }),
  };
}
