/**
 * For Node programs run as OddJob program jobs: `import { progress, log } from '@oddjob/programs/reporter'`.
 * Writes protocol lines to stdout; outside OddJob they are just readable lines.
 */
import { MARKER, type LogLevel } from './protocol.js';

function emit(value: object): void {
  process.stdout.write(`${MARKER}${JSON.stringify(value)}\n`);
}

/** Reports progress (0..100) with an optional message. */
export function progress(percent: number, message?: string): void {
  emit(message === undefined ? { progress: percent } : { progress: percent, message });
}

/** Writes a line to the job's log at a level, apart from plain output. */
export function log(text: string, level: LogLevel = 'info'): void {
  emit({ log: text, level });
}

export { MARKER };
