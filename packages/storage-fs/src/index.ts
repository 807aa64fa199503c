export { FileJobStore, FileJobQueueAdder, type FileStoreOptions } from './file-store.js';
export { UnreadableFileError } from './errors.js';
export type { StoreProblem, StoreProblemKind } from './problems.js';
export { type RetentionOptions } from './retention.js';
export type { CorruptFile } from './store-context.js';
export { STORE_VERSION } from './store-dir.js';
