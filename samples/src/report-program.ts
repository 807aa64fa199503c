/**
 * A console program, run by the programs sample as a job: it knows nothing of OddJob except the
 * reporter, which prints protocol lines for progress. Everything else it prints is plain output.
 */
import { progress, log } from '@oddjob/programs/reporter';

const steps = ['counting files', 'summing sizes', 'writing the report'];
for (const [i, step] of steps.entries()) {
  console.log(`step ${i + 1}/${steps.length}: ${step}`);
  progress(Math.round(((i + 1) / steps.length) * 100), step);
  await new Promise((r) => setTimeout(r, 20));
}
log(`report for ${process.argv[2] ?? 'everything'} written`);
console.error('(a line on stderr, to show it is captured too)');
