/**
 * The Sidequest race job. Sidequest finds a job's class by the file it was defined in and imports
 * that file where the job runs, so the class lives in a module of its own. With the inline runner
 * (see sidequest.ts) it runs in this very process, so it can count into module state.
 */
import { Job } from 'sidequest';
import { nowMs } from '../../dist/src/race/measure.js';

export const seen = { handled: 0, latencies: [] as number[] };

export class RaceJob extends Job {
  run(_i: number, t: number | null): void {
    const startedAt = nowMs();
    if (t === null) seen.handled++;
    else seen.latencies.push(startedAt - t);
  }
}
