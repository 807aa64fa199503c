import type { StateDir } from './layout.js';

/** Whether a job in this directory is final (done, failed, cancelled). */
export function isFinalState(state: StateDir): boolean {
  switch (state) {
    case 'waiting':
    case 'ready':
    case 'running':
      return false;
    case 'done':
    case 'failed':
    case 'cancelled':
      return true;
  }
}
