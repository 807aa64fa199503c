export { buildProgram, run, describeError } from './program.js';
export { parseStoreSpec, openStore, type CliStore, type StoreSpec, type StoreKind } from './store.js';
export { CliError, EXIT_NOT_AVAILABLE } from './errors.js';
export { resolveStores, parseTenantsEnv, splitTenantForm, type StoreSet, type NamedSpec } from './tenants.js';
