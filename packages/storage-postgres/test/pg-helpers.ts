// The helpers live in the package (exported as @oddjob/storage-postgres/testing) so that other suites share them.
export * from '../src/testing.js';
