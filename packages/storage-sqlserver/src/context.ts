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
 * Splits items into rounds so that no round holds two items with the same key: round k holds each
 * key's k-th item. Used where one UPDATE must not join the same row twice; running the rounds in
 * order keeps the memory store's one-after-another semantics.
 */
export function rounds<T>(items: readonly T[], key: (item: T) => string): { item: T; index: number }[][] {
  const seen = new Map<string, number>();
  const out: { item: T; index: number }[][] = [];
  items.forEach((item, index) => {
    const k = key(item);
    const r = seen.get(k) ?? 0;
    seen.set(k, r + 1);
    (out[r] ??= []).push({ item, index });
  });
  return out;
}
