import type { SchemaNames } from './identifiers.js';
import type { StatementRunner } from './runner.js';

/** What every part of the store shares: where the tables are and how statements run. */
export interface SqlServerContext {
  names: SchemaNames;
  runner: StatementRunner;
}

/** Ids and lease tokens are 36-character UUID strings; anything else cannot match a row. */
export function isUuidShaped(value: unknown): value is string {
  return typeof value === 'string' && value.length === 36;
}

/** Total rows affected by a request (a batch may report one count per statement). */
export function affected(result: { rowsAffected: number[] }): number {
  return result.rowsAffected.reduce((a, b) => a + b, 0);
}

/** Splits a list into pieces of at most `size`. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Packs items, in order, into pieces whose summed cost stays within `budget` (an item costing more
 * than the budget gets a piece of its own; callers split such items first). For statements whose
 * rows bind different numbers of parameters: outcomes with log lines, log entries.
 */
export function pack<T>(items: readonly T[], cost: (item: T) => number, budget: number): T[][] {
  const out: T[][] = [];
  let piece: T[] = [];
  let used = 0;
  for (const item of items) {
    const c = cost(item);
    if (piece.length > 0 && used + c > budget) {
      out.push(piece);
      piece = [];
      used = 0;
    }
    piece.push(item);
    used += c;
  }
  if (piece.length > 0) out.push(piece);
  return out;
}
