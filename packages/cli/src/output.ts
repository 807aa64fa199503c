import { createInterface } from 'node:readline/promises';
import { CliError } from './errors.js';

/** A plain text table: columns padded to their widest cell, no box drawing (copy-paste friendly). */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

export function iso(d: Date | null | undefined): string {
  return d ? d.toISOString().replace(/\.\d{3}Z$/, 'Z') : '-';
}

/** JSON for --json: Dates as ISO strings, bigints as strings. */
export function json(value: unknown): string {
  return `${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`;
}

/**
 * Asks before a change to many jobs. Without a terminal (a pipe, CI) there is nobody to ask: refuse
 * rather than guess, so a script must say --yes.
 */
export async function confirm(question: string, yes: boolean): Promise<void> {
  if (yes) return;
  if (!process.stdin.isTTY)
    throw new CliError(`${question} — refusing without confirmation: stdin is not a terminal; pass --yes`);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = (await rl.question(`${question} [y/N] `)).trim().toLowerCase();
    if (answer !== 'y' && answer !== 'yes') throw new CliError('cancelled, nothing changed');
  } finally {
    rl.close();
  }
}

/** Progress on stderr: redrawn in place on a terminal, a line every 10% otherwise. */
export function progress(label: string, total: number): { tick(n?: number): void; done(): void } {
  let count = 0;
  let lastShown = -1;
  const tty = process.stderr.isTTY === true;
  const show = (): void => {
    if (tty) process.stderr.write(`\r${label}: ${count}/${total}`);
    else {
      const decile = total === 0 ? 10 : Math.floor((count * 10) / total);
      if (decile !== lastShown) {
        lastShown = decile;
        process.stderr.write(`${label}: ${count}/${total}\n`);
      }
    }
  };
  return {
    tick(n = 1) {
      count += n;
      show();
    },
    done() {
      if (tty) process.stderr.write('\n');
    },
  };
}
