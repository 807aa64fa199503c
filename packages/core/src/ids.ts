import { v7 as uuidv7 } from 'uuid';

/**
 * Job ids are UUID v7: made by the client (no round trip to learn the id), time-ordered (so
 * "creation order" is "id order", and B-tree inserts stay at the right edge), globally unique.
 */
export function newJobId(): string {
  return uuidv7();
}

/** A random, unguessable lease token. */
export function newLeaseToken(): string {
  return crypto.randomUUID();
}
