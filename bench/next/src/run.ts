/**
 * The race against the newest releases of the peers, on Node 24: OddJob against graphile-worker,
 * pg-boss and Sidequest as users install them today. Started by bench/src/race-next.ts, which
 * installs this folder (its own package.json: these releases need Node 22+, so they stay out of the
 * workspaces that CI installs and tests on Node 20) and runs this file with the Node 24 binary of
 * the `node` npm package. Same harness, phases, rounds and table as the Node 20 race.
 */
import * as graphileWorker from 'graphile-worker';
import { main as runRace } from '../../dist/src/race/run-competitors.js';
import { graphileContender, type GraphileLib } from '../../dist/src/race/graphile.js';
import { raceOddJob } from '../../dist/src/race/oddjob.js';
import { racePgBoss12 } from './pgboss12.js';
import { raceSidequest } from './sidequest.js';
import { versionOf } from './versions.js';

async function main(): Promise<void> {
  console.log(`Node ${process.version}`);
  await runRace({
    extraContenders: [{ key: 'oddjob', run: raceOddJob }],
    competitors: [
      // The two releases share the option names the race uses; the cast bridges their separate type declarations.
      {
        key: 'graphile',
        run: graphileContender(graphileWorker as unknown as GraphileLib, versionOf('graphile-worker')),
      },
      { key: 'pgboss', run: racePgBoss12 },
      { key: 'sidequest', run: raceSidequest },
    ],
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
