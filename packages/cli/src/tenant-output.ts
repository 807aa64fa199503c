import type { PerTenant } from './context.js';
import { table } from './output.js';

/** The items of every tenant in one list, each tagged with its tenant when the read went `across` them. */
export function tagged<T extends object>(across: boolean, results: readonly PerTenant<readonly T[]>[]): object[] {
  return results.flatMap((r) => (across ? r.value.map((v) => ({ tenant: r.tenant, ...v })) : [...r.value]));
}

/** One table over every tenant's items; a TENANT column first when the read went `across` them. */
export function tenantTable<T>(
  across: boolean,
  headers: readonly string[],
  results: readonly PerTenant<readonly T[]>[],
  cells: (item: T) => string[],
): string {
  const rows = results.flatMap((r) => r.value.map((v) => (across ? [r.tenant ?? '-', ...cells(v)] : cells(v))));
  return table(across ? ['TENANT', ...headers] : headers, rows);
}
