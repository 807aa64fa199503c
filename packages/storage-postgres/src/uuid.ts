const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Whether `value` is a UUID in its text form. Job ids and lease tokens are uuid-shaped; the store
 * checks before sending one, so a value it never issued is answered without a round trip, and a
 * value that would break a comma-joined parameter never reaches one.
 */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

/** The lowest UUID: the list statement's "from" bound when no afterId is given. */
export const NIL_UUID = '00000000-0000-0000-0000-000000000000';
