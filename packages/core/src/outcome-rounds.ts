import { leaseExpiredError } from './errors.js';

/**
 * Splits items into rounds so that no round holds two items with the same key: round k holds each
 * key's k-th item ("one outcome per job per round"). A single UPDATE must not touch the same row
 * twice; running the rounds in order gives the memory store's one-after-another semantics.
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

/**
 * Core's LeaseExpiredError split around the owner's name, for stores that build the stored error in
 * SQL (the owner is spliced in there): `message = before + owner + after`, so the stored error is
 * exactly `leaseExpiredError(owner)`.
 */
export function leaseExpiredErrorParts(): { name: string; before: string; after: string } {
  const mark = '\u0001owner\u0001';
  const e = leaseExpiredError(mark);
  const at = e.message.indexOf(mark);
  return { name: e.name, before: e.message.slice(0, at), after: e.message.slice(at + mark.length) };
}
