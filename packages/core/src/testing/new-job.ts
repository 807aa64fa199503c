import type { NewJob } from '../job.js';
import { DEFAULT_RETRY_POLICY } from '../retry.js';

/**
 * A NewJob as stores take it (checked, arguments already encoded), with every field at its plain
 * default: queue 'default', target 't', method 'm', no arguments, no options; `over` sets the rest.
 * For tests of a store's own mapping, below the adders that normally build it.
 */
export function newJobFixture(id: string, over: Partial<NewJob> = {}): NewJob {
  return {
    id,
    queue: 'default',
    target: 't',
    method: 'm',
    args: '[]',
    runAt: null,
    retry: DEFAULT_RETRY_POLICY,
    metadata: {},
    uniqueKey: null,
    pinnedHost: null,
    uniqueScope: 'stored',
    priority: 0,
    after: null,
    concurrency: null,
    sequence: null,
    ...over,
  };
}
