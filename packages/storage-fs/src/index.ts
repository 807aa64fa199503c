export { FileJobStore, FileJobQueueAdder, type FileStoreOptions } from './file-store.js';
export { DEFAULT_RETENTION, type RetentionOptions } from './retention.js';
export type { CorruptFile } from './store-context.js';
export { STORE_VERSION } from './store-dir.js';
