/**
 * `npm run bench`: every benchmark, one after another (never two at once: they would share the two
 * cores and measure each other). Pick some with arguments: `npm run bench -- executor race`.
 *
 *   executor  no-op jobs through the full actor path on the memory store (executor.ts)
 *   fs        the file store against this machine's raw fsync+rename limit (fs.ts)
 *   programs  console programs as jobs: /bin/true through the executor vs a bare spawn (programs.ts)
 *   race      OddJob vs graphile-worker 0.17 and pg-boss 10 on the local PostgreSQL, Node 20 (race/)
 *   dashboard every dashboard list, count and detail endpoint over 1,000,000 PostgreSQL jobs (dashboard.ts)
 *   sandbox   no-op jobs on the event loop vs in a sandboxed queue's worker threads (sandbox.ts)
 *   scale     1, 2 and 4 executor processes on one PostgreSQL and on one file-store directory (scale.ts)
 *   observability  the executor with @oddjob/metrics' metrics and tracing, without and with an SDK (observability.ts)
 *   race-next OddJob vs the newest graphile-worker, pg-boss and Sidequest, all on Node 24 (race-next.ts, next/)
 *   wait      1,000 concurrent waitForJob calls on PostgreSQL against a drain nobody waits on (wait.ts)
 *   keyed     what concurrency keys and dependency chains cost on PostgreSQL, against plain jobs (keyed-pg.ts)
 *   steady    enqueue-to-start latency on PostgreSQL idle and under a steady load at half the max rate (steady.ts)
 */
import { main as dashboard } from './dashboard.js';
import { main as executor } from './executor.js';
import { main as fs } from './fs.js';
import { main as keyed } from './keyed-pg.js';
import { main as observability } from './observability.js';
import { main as programs } from './programs.js';
import { main as race } from './race/run-race.js';
import { main as raceNext } from './race-next.js';
import { main as sandbox } from './sandbox.js';
import { main as scale } from './scale.js';
import { main as steady } from './steady.js';
import { main as wait } from './wait.js';

const benches: Record<string, () => Promise<unknown>> = {
  executor: () => executor([]),
  fs: () => fs([]),
  programs: () => programs([]),
  race: () => race(),
  dashboard: () => dashboard(),
  sandbox: () => sandbox(),
  scale: () => scale(),
  observability: () => observability([]),
  'race-next': () => raceNext(),
  wait: () => wait(),
  steady: () => steady([]),
  keyed: () => keyed([]),
};

async function run(): Promise<void> {
  const asked = process.argv.slice(2);
  const unknown = asked.filter((a) => !(a in benches));
  if (unknown.length > 0)
    throw new Error(`unknown bench ${unknown.join(', ')}; known: ${Object.keys(benches).join(', ')}`);
  for (const name of asked.length > 0 ? asked : Object.keys(benches)) {
    console.log(`\n===== ${name} =====`);
    await benches[name]();
  }
}

run().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
