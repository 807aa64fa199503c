/**
 * The speed race: OddJob against graphile-worker and pg-boss on the same PostgreSQL, one after another in interleaved rounds.
 *   node bench/dist/src/race/run-race.js        (env knobs: see run-competitors.ts)
 */
import { pathToFileURL } from 'node:url';
import { main as runCompetitors } from './run-competitors.js';
import { raceOddJob } from './oddjob.js';

export function main() {
  return runCompetitors({ extraContenders: [{ key: 'oddjob', run: raceOddJob }] });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
