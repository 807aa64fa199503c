import { errnoCode, isMissing } from './durable.js';
import { fsOps } from './fs-ops.js';

/**
 * A directory's names, or none if it is missing (never made, or removed meanwhile) or is not a
 * directory: the optional directories of the layout (parents/, outcomes/, keys/, a queue's state
 * directories before an upgrade made them) read as empty.
 */
export async function listOrNone(dir: string): Promise<string[]> {
  try {
    return await fsOps.readdir(dir);
  } catch (err) {
    if (isMissing(err) || errnoCode(err) === 'ENOTDIR') return [];
    throw err;
  }
}
