import { initial } from './001-initial.js';
import { hotClaims } from './002-hot-claims.js';
import { history } from './003-history.js';
import { hostAffinity } from './004-host-affinity.js';
import { flow } from './005-flow.js';
import { openList } from './006-open-list.js';
import type { Migration } from './migration.js';

/** Every migration, oldest first. Append only; versions are 1, 2, 3, ... with no gaps. */
export const MIGRATIONS: readonly Migration[] = Object.freeze([
  initial,
  hotClaims,
  history,
  hostAffinity,
  flow,
  openList,
]);

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

export type { Migration } from './migration.js';
