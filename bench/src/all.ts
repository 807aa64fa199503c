/**
 * `npm run bench`: every benchmark, one after another (never two at once: they would share the two
 * cores and measure each other). Pick some with arguments: `npm run bench -- executor race`.
 *
 *   executor  no-op jobs through the full actor path on the memory store (executor.ts)
 *   fs        the file store against this machine's raw fsync+rename limit (fs.ts)
 *   race      OddJob vs graphile-worker vs pg-boss on the local PostgreSQL (race/)
 */
import { main as executor } from './executor.js';
import { main as fs } from './fs.js';
import { main as race } from './race/run-race.js';

const benches: Record<string, () => Promise<unknown>> = {
  executor: () => executor([]),
  fs: () => fs([]),
  race: () => race(),
};

async function run(): Promise<void> {
  const asked = process.argv.slice(2);
  const unknown = asked.filter((a) => !(a in benches));
  if (unknown.length > 0) throw new Error(`unknown bench ${unknown.join(', ')}; known: ${Object.keys(benches).join(', ')}`);
  for (const name of asked.length > 0 ? asked : Object.keys(benches)) {
    console.log(`\n===== ${name} =====`);
    await benches[name]!();
  }
}

run().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
