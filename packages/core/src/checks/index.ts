export * from './limits.js';
export * from './is-array.js';
export * from './manager-checks.js';
export * from './admin-checks.js';
export * from './schedule-checks.js';
export * from './history-checks.js';
export * from './after-id.js';
export * from './attempted-checks.js';
