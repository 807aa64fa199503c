import { readFileSync } from 'node:fs';

/**
 * The installed version of a contender, for the table: read, not assumed, so the table cannot lie.
 * Read from this folder's own node_modules (some packages do not export their package.json).
 */
export function versionOf(pkg: string): string {
  const file = new URL(`../node_modules/${pkg}/package.json`, import.meta.url);
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}
