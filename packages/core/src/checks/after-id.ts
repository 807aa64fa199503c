/**
 * The smallest job id a store with UUID-typed ids can use as an inclusive lower bound for
 * `JobFilter.afterId`.
 *
 * `afterId` means "ids that sort after it as strings" (the memory and file stores compare strings).
 * Ids are lowercase hyphenated UUIDs, whose string order is their numeric order, which is the order
 * of PostgreSQL's uuid type and of SQL Server's binary-collated char(36). A caller's afterId need
 * not be such a UUID (a typo, upper case, a prefix), and PostgreSQL cannot even cast one that is
 * not. So the SQL stores ask instead for `id >= uuidAtOrAfter(afterId)`: for every canonical id x,
 * `x > afterId` exactly when `x >= bound`, so all stores answer the same, and the bound is always a
 * valid UUID the primary key can seek to. null means no UUID sorts after afterId (nothing matches).
 */
export function uuidBoundAfter(afterId: string): string | null {
  const valid = (i: number, c: string): boolean => (DASHES.has(i) ? c === '-' : HEX.includes(c));
  let n = 0;
  while (n < LENGTH && n < afterId.length && valid(n, afterId[n])) n++;
  // A proper prefix of some UUID: that prefix plus the smallest completion is the first one after it.
  if (n === afterId.length && n < LENGTH) return afterId + smallestFrom(n);
  // Otherwise keep the longest prefix we can and raise the next character as little as possible.
  for (let i = Math.min(n, LENGTH - 1); i >= 0; i--) {
    const next = DASHES.has(i) ? (afterId[i] < '-' ? '-' : undefined) : [...HEX].find((c) => c > afterId[i]);
    if (next !== undefined) return afterId.slice(0, i) + next + smallestFrom(i + 1);
  }
  return null;
}

const LENGTH = 36;
const DASHES = new Set([8, 13, 18, 23]);
const HEX = '0123456789abcdef';

function smallestFrom(i: number): string {
  let s = '';
  for (let j = i; j < LENGTH; j++) s += DASHES.has(j) ? '-' : '0';
  return s;
}
