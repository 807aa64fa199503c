/**
 * The worker of flow-crash.test.ts (compiled with the tests, never run by mocha itself):
 *   flow-child.js <dir> <hold marker> <fs call> <path part>
 * opens the store, makes the first store call `<fs call>` (open, rename or unlink) whose path
 * contains `<path part>` never return (after creating <hold marker>), then claims every job of
 * queue "default" and records them all done in one call. The test kills it while it hangs there:
 * after the jobs' final renames are durable, at one step of what follows them.
 */
import { writeFileSync } from 'node:fs';
import { fsOps } from '../src/fs-ops.js';
import { FileJobStore } from '../src/index.js';

const [dir, marker, call, part] = process.argv.slice(2);

function hang(): Promise<never> {
  writeFileSync(marker, 'holding');
  setInterval(() => undefined, 1000); // keeps the process alive (an unsettled await alone would exit it)
  return new Promise<never>(() => undefined);
}

let hung = false;
const real = { ...fsOps };
fsOps.open = (path, flags, mode) =>
  !hung && call === 'open' && path.includes(part) ? ((hung = true), hang()) : real.open(path, flags, mode);
fsOps.rename = (from, to) =>
  !hung && call === 'rename' && from.includes(part) ? ((hung = true), hang()) : real.rename(from, to);
fsOps.unlink = (path) =>
  !hung && call === 'unlink' && path.includes(part) ? ((hung = true), hang()) : real.unlink(path);

const store = await FileJobStore.open({ dir, retention: false });
const jobs = await store.claimJobs({ queues: ['default'], limit: 100, owner: 'doomed', leaseMs: 600_000 });
await store.recordOutcomes(jobs.map((j) => ({ kind: 'done' as const, lease: { jobId: j.id, token: j.lease.token } })));
// Reaching here means the hook never matched: the test fails on the missing marker.
await store.close();
